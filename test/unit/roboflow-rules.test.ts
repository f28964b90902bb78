import { describe, expect, it } from 'vitest';
import { newRunRecord } from '../../shared/run/start-run';
import type { JobStage } from '../../shared/targets/roboflow/api-schemas';
import type { RoboflowClient } from '../../shared/targets/roboflow/client';
import { describeIngestError, describeShardError } from '../../shared/targets/roboflow/ingest-errors';
import { httpReferencesProblem, httpReferencesRefusal } from '../../shared/targets/roboflow/references-url';
import { resultsStage } from '../../shared/targets/roboflow/results-stage';
import { RoboflowTarget } from '../../shared/targets/roboflow/target';
import { parseRoboflowWebhook } from '../../shared/targets/roboflow/webhook';
import { specFor } from '../support/domain';

const stage = (name: string, outputBatches: string[], startTimestamp?: string): JobStage => ({
  processingStageId: `id-${name}`,
  processingStageName: name,
  outputBatches,
  statusType: 'success',
  startTimestamp,
});

describe('the stage holding a job results', () => {
  it('is export when it produced output, wherever it is listed', () => {
    expect(resultsStage([stage('export', ['j-export']), stage('processing', ['j-processing'])])?.processingStageName).toBe('export');
  });

  it('is otherwise the last stage with output batches, by start time when every one gives it', () => {
    const listedBackwards = [stage('pack', ['j-pack'], '2026-12-04T10:05:00Z'), stage('processing', ['j-p'], '2026-12-04T10:00:00Z'), stage('notify', [], '2026-12-04T10:09:00Z')];
    expect(resultsStage(listedBackwards)?.processingStageName).toBe('pack');
    expect(resultsStage([stage('processing', ['j-p']), stage('pack', ['j-pack'], '2026-12-04T10:05:00Z')])?.processingStageName).toBe('pack');
    expect(resultsStage([stage('export', []), stage('processing', ['j-p'])])?.processingStageName).toBe('processing');
  });

  it('does not exist when no stage produced output', () => {
    expect(resultsStage([stage('processing', []), stage('export', [])])).toBeUndefined();
    expect(resultsStage([])).toBeUndefined();
  });
});

describe('what Roboflow refuses in references', () => {
  const signed = 'http://minio.internal:9000/b/k.jsonl?X-Amz-Signature=s3cr3t&X-Amz-Credential=AKIA';

  it('unsafe-url-detected names the host and nothing of the path or signature', () => {
    const message = describeIngestError('unsafe-url-detected', `Untrusted domain found: https://cdn.example.com:8443/imgs/a.jpg?X-Amz-Signature=s3cr3t`);
    expect(message).toMatch(/^unsafe-url-detected: Roboflow refused to download from host cdn\.example\.com:8443, which it does not trust\./);
    expect(message).toContain('ask Roboflow to trust cdn.example.com:8443');
    expect(message).not.toMatch(/s3cr3t|imgs/);
    expect(describeIngestError('unsafe-url-detected', 'Untrusted domain found')).toContain('from a host it did not name');
    expect(describeIngestError('file-size-limit-exceeded', 'too big')).toBe('file-size-limit-exceeded: too big');
  });

  it('reads unsafe-url-detected from whatever a failed shard carries', () => {
    const metadata = { errorType: 'unsafe-url-detected', reason: 'Untrusted domain found: http://127.0.0.1:4569/bucket/x.jpg' };
    expect(describeShardError('shard-ingest-failed', 'error', metadata)).toMatch(/host 127\.0\.0\.1:4569, which it does not trust/);
    expect(describeShardError('shard-ingest-failed', 'error', { reason: 'other' })).toBe('shard-ingest-failed (error)');
  });

  it('plain http is refused unless opted in, naming only the origin', () => {
    expect(httpReferencesProblem(signed, false)).toEqual({ expected: expect.stringContaining('--allow-http-references'), received: 'http://minio.internal:9000' });
    expect(httpReferencesProblem(signed, true)).toBeUndefined();
    expect(httpReferencesProblem(signed.replace('http:', 'https:'), false)).toBeUndefined();
    expect(httpReferencesRefusal(signed, false)?.message).not.toMatch(/s3cr3t|AKIA|k\.jsonl/);
  });
});

describe('a finished job outcome (RoboflowTarget.jobOutcome with a stub client)', () => {
  const run = { ...newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')), batchId: 'bb-r1', jobId: 'bb-job' };
  const job = { jobId: 'bb-job', jobDefinition: { jobInput: { batchId: 'bb-r1' } }, isTerminal: true, error: false, restartParametersOverride: [] };
  const targetWith = (stages: JobStage[]) =>
    new RoboflowTarget({ jobMetadata: async () => job, jobStages: async () => stages } as unknown as RoboflowClient);

  it('copies the last stage with output when export is absent, naming it', async () => {
    await expect(targetWith([stage('processing', ['p']), stage('packing', ['k'])]).jobOutcome(run)).resolves.toEqual({
      terminal: true,
      failed: false,
      outputBatches: ['k'],
      resultsStage: 'packing',
    });
  });

  it('fails when the results stage or an export stage failed, or no stage produced output', async () => {
    const failedExport = { ...stage('export', []), statusType: 'error', notification: { message: 'packing crashed' } };
    await expect(targetWith([stage('processing', ['p']), failedExport]).jobOutcome(run)).resolves.toMatchObject({ failed: true, detail: 'export stage failed: packing crashed' });
    await expect(targetWith([stage('processing', []), stage('notify', [])]).jobOutcome(run)).resolves.toMatchObject({
      failed: true,
      detail: 'job finished but no stage produced output batches (stages: processing, notify)',
    });
  });
});

describe('Roboflow webhooks reporting untrusted hosts', () => {
  const headers = { authorization: 'Bearer rf_ws1' };
  const staging = (notification: object) =>
    JSON.stringify({ type: 'roboflow-data-staging-notification-v1', event_id: 'e1', ingest_id: 'i1', batch_id: 'b1', shard_id: null, notification, delivery_attempt: 1 });

  it('names the host in the ingest error and in each refused file, never the signed URL', () => {
    const reason = 'Untrusted domain found: https://files.example.net/a.jpg?X-Amz-Signature=s3cr3t';
    const ingest = parseRoboflowWebhook(headers, staging({ type: 'ingest-status-notification-v1', success: false, error_details: { type: 'unsafe-url-detected', reason } }));
    expect(ingest).toMatchObject({ kind: 'ingest-status', success: false, error: expect.stringContaining('host files.example.net, which it does not trust') });
    const files = parseRoboflowWebhook(
      headers,
      staging({ type: 'ingest-files-status-notification-v1', success: true, failed_files: [{ type: 'unsafe-url-detected', file_name: 'a.jpg', reason }] }),
    );
    expect(files).toMatchObject({ kind: 'files-status', failed: [{ name: 'a.jpg', type: 'unsafe-url-detected', reason: expect.stringContaining('files.example.net') }] });
    expect(JSON.stringify([ingest, files])).not.toContain('s3cr3t');
  });
});

describe('submitting a chunk of plain-http references', () => {
  const run = { ...newRunRecord('r2', specFor('s3://bucket/in/', 's3://bucket/out/')), batchId: 'bb-r2' };
  const chunk = { ingestId: 'bb-r2-0', referencesUrl: 'http://minio.internal:9000/bucket/refs.jsonl?X-Amz-Signature=s3cr3t' };

  it('is refused before any request without the opt-in, and sent with it', async () => {
    const sent: unknown[] = [];
    const client = { ingestImageReferences: async (...args: unknown[]) => (sent.push(args), { ingestId: 'bb-r2-0' }) } as unknown as RoboflowClient;
    const refusal = await new RoboflowTarget(client).submitChunk(run, chunk).catch((err: Error) => err);
    expect((refusal as Error).message).toBe(
      "the references file is signed as a plain http URL (http://minio.internal:9000); Roboflow's official client refuses http:// references URLs; the API's answer to them is not documented; opt in with --allow-http-references, or allowHttpReferences in a deployment's Roboflow target",
    );
    expect(sent).toEqual([]);
    await expect(new RoboflowTarget(client, undefined, { allowHttpReferences: true }).submitChunk(run, chunk)).resolves.toMatchObject({ duplicated: false });
    expect(sent).toHaveLength(1);
  });
});
