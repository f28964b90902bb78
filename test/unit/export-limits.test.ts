import { describe, expect, it } from 'vitest';
import { cliEnvironment } from '../../cli/environment';
import { wire } from '../../cli/wiring';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import { InputError } from '../../shared/errors';
import { parseBucketUrl } from '../../shared/location';
import { silentLogger } from '../../shared/log';
import { byteCount, DEFAULT_EXPORT_LIMITS, exportLimits } from '../../shared/pipeline/export-limits';
import { noProgress } from '../../shared/progress';

const deployment = {
  sources: [{ id: 'cams', bucket: 'media-bucket', prefix: 'in/' }],
  destination: { bucket: 'results-bucket', prefix: 'out/' },
  workspace: 'ws',
  workflowId: 'wf',
};

describe('export limits', () => {
  it('are 10 GiB, 100,000 members, 100 times and 30 minutes unless set; unset overrides keep the defaults', () => {
    expect(DEFAULT_EXPORT_LIMITS).toEqual({ maxUnpackedBytes: 10 * 1024 ** 3, maxMembers: 100_000, maxExpansionRatio: 100, copyTimeoutSeconds: 1800 });
    expect(exportLimits({ maxMembers: 5, copyTimeoutSeconds: undefined })).toEqual({ ...DEFAULT_EXPORT_LIMITS, maxMembers: 5 });
    expect([byteCount(10 * 1024 ** 3), byteCount(512 * 1024 ** 2), byteCount(1000)]).toEqual(['10 GiB', '512 MiB', '1000 bytes']);
  });

  it('are set for a deployment in its configuration, checked when it is read', () => {
    expect(parseBridgeConfig({ ...deployment, exportLimits: { maxMembers: 5000 } }).exportLimits).toEqual({ maxMembers: 5000 });
    expect(parseBridgeConfig(deployment).exportLimits).toBeUndefined();
    expect(() => parseBridgeConfig({ ...deployment, exportLimits: { maxExpansionRatio: 0 } })).toThrow(/exportLimits\.maxExpansionRatio/);
  });

  it('are set for the CLI in its environment, a bad value naming its variable (exit 2)', () => {
    const env = cliEnvironment({ ROBOFLOW_API_KEY: 'k', BUCKET_BRIDGE_ARCHIVE_MAX_MEMBERS: '5000', BUCKET_BRIDGE_COPY_TIMEOUT_SECONDS: '60' });
    const deps = wire(
      { env, processEnv: { AWS_REGION: 'us-east-1' }, log: silentLogger, progress: noProgress, target: { name: 'roboflow', workspace: 'ws', workflowId: 'wf', job: {} }, sourceUnused: true },
      parseBucketUrl('--source', 's3://media/in/'),
      parseBucketUrl('--dest', 's3://results/out/'),
    );
    expect(exportLimits(deps.exportLimits)).toEqual({ ...DEFAULT_EXPORT_LIMITS, maxMembers: 5000, copyTimeoutSeconds: 60 });
    expect(() => cliEnvironment({ ROBOFLOW_API_KEY: 'k', BUCKET_BRIDGE_ARCHIVE_MAX_BYTES: 'lots' })).toThrow(InputError);
    expect(() => cliEnvironment({ ROBOFLOW_API_KEY: 'k', BUCKET_BRIDGE_ARCHIVE_MAX_BYTES: 'lots' })).toThrow(/^BUCKET_BRIDGE_ARCHIVE_MAX_BYTES: expected a whole number of bytes/);
  });
});
