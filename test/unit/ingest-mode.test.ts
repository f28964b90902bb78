import { describe, expect, it } from 'vitest';
import { runOptions } from '../../cli/options';
import { BridgeConfig } from '../../shared/config/bridge-config';
import { RemoteError } from '../../shared/errors';
import { specForSource } from '../../shared/run/source-spec';
import type { RoboflowClient } from '../../shared/targets/roboflow/client';
import { RoboflowUploads } from '../../shared/targets/roboflow/uploads';

const roboflow = ['--source', 's3://media/in/', '--dest', 's3://results/out/', '--workspace', 'ws', '--workflow', 'wf'];

describe('--ingest and the deployed `ingest`', () => {
  it('defaults to auto and takes references, upload and auto', () => {
    expect(runOptions(roboflow).spec.ingest).toBe('auto');
    for (const mode of ['references', 'upload', 'auto']) expect(runOptions([...roboflow, '--ingest', mode]).spec.ingest).toBe(mode);
  });

  it('refuses other values, and --ingest with a document target, naming the flag', () => {
    expect(() => runOptions([...roboflow, '--ingest', 'bytes'])).toThrow(/--ingest: expected references, upload or auto, got "bytes"/);
    const extend = ['--source', 's3://docs/in/', '--dest', 's3://results/out/', '--target', 'extend', '--extend-processor', 'ex_1'];
    expect(() => runOptions([...extend, '--ingest', 'upload'])).toThrow(/--ingest: expected no --ingest with --target extend/);
  });

  it('carries `ingest` from the deployed Roboflow target into scheduled runs', () => {
    const config = BridgeConfig.parse({
      destination: { bucket: 'results', prefix: 'out/' },
      sources: [{ id: 'cams', bucket: 'media', prefix: 'in/', media: 'images', schedule: 'rate(1 hour)' }],
      target: { name: 'roboflow', workspace: 'ws', workflowId: 'wf', ingest: 'upload' },
    });
    expect(specForSource(config, config.sources[0]!).ingest).toBe('upload');
    expect(() => BridgeConfig.parse({ ...config, target: { ...config.target, ingest: 'sometimes' } })).toThrow();
  });
});

describe("Roboflow's refusal of signed-URL ingest for the plan", () => {
  const uploads = new RoboflowUploads({} as RoboflowClient);
  const failed = (status: number, detail: string) => new RemoteError(`Roboflow POST /data-staging/v1/external/ws/batches/b/bulk-upload/image-references failed: HTTP ${status}: ${detail}`, status);

  it('is recognised from its status and text, and says so', () => {
    const refusal = uploads.referencesRefusal(failed(403, 'Only Growth Plan customers and Enterprise customers can ingest data through signed URLs.'));
    expect(refusal).toBe("Roboflow refused signed-URL references for this workspace's plan (HTTP 403)");
    expect(uploads.referencesRefusal(failed(402, 'signed URL ingest requires an upgrade'))).toMatch(/HTTP 402/);
  });

  it('is not confused with other refusals (a bad key, a plan without batch processing, an untrusted host, a server error)', () => {
    expect(uploads.referencesRefusal(failed(401, 'Unauthorized'))).toBeUndefined();
    expect(uploads.referencesRefusal(failed(402, 'Batch processing is not enabled for this workspace'))).toBeUndefined();
    expect(uploads.referencesRefusal(failed(400, 'unsafe-url-detected: Untrusted domain found'))).toBeUndefined();
    expect(uploads.referencesRefusal(failed(500, 'Only Growth Plan customers can ingest data through signed URLs'))).toBeUndefined();
    expect(uploads.referencesRefusal(new Error('Only Growth Plan customers can ingest data through signed URLs'))).toBeUndefined();
  });
});
