import { FileStateStore } from '../shared/state/file-state';
import type { Logger } from '../shared/log';
import type { ProgressListener } from '../shared/progress';
import type { BridgeDeps } from '../shared/run/deps';
import type { BucketLocation } from '../shared/location';
import { InputError } from '../shared/errors';
import { createS3Client, s3SettingsFromEnv } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import type { ObjectStore } from '../shared/storage/port';
import { RoboflowClient } from '../shared/targets/roboflow/client';
import { RoboflowTarget } from '../shared/targets/roboflow/target';
import type { CliEnvironment } from './environment';

export interface Wiring {
  env: CliEnvironment;
  processEnv: NodeJS.ProcessEnv;
  log: Logger;
  progress: ProgressListener;
  workspace: string;
  stateDir?: string;
  /** Webhook URL for Roboflow (with the secret path token); absent when polling. */
  notificationsUrl?: string;
}

export function storeFor(location: BucketLocation, field: string, processEnv: NodeJS.ProcessEnv): ObjectStore {
  if (location.scheme !== 's3') throw new InputError(field, 'an s3:// URL (gs:// support is not available yet)', `${location.scheme}://`);
  return new S3Store(createS3Client(s3SettingsFromEnv(processEnv)), location.bucket);
}

/** Builds the ports for one CLI command from the environment and flags. */
export function wire(w: Wiring, source: BucketLocation, dest: BucketLocation): BridgeDeps {
  const client = new RoboflowClient({
    apiKey: w.env.ROBOFLOW_API_KEY,
    workspace: w.workspace,
    apiUrl: w.env.ROBOFLOW_API_URL,
    onRetry: ({ path, attempt, delayMs, reason }) => w.log.warn('Roboflow call retried', { path, attempt, delayMs, reason }),
  });
  return {
    source: storeFor(source, '--source', w.processEnv),
    dest: storeFor(dest, '--dest', w.processEnv),
    state: new FileStateStore(w.stateDir ?? w.env.BUCKET_BRIDGE_STATE_DIR),
    target: new RoboflowTarget(client, w.notificationsUrl),
    log: w.log,
    progress: w.progress,
  };
}
