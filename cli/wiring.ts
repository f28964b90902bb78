import { FileStateStore } from '../shared/state/file-state';
import type { Logger } from '../shared/log';
import type { ProgressListener } from '../shared/progress';
import type { BridgeDeps } from '../shared/run/deps';
import type { BucketLocation } from '../shared/location';
import type { GcsSettings } from '../shared/storage/gcs-options';
import { s3SettingsFromEnv } from '../shared/storage/s3-client';
import { StoreFactory } from '../shared/storage/store-factory';
import type { ObjectStore } from '../shared/storage/port';
import type { CliEnvironment } from './environment';
import { cliGcsSettings } from './gcs-settings';
import type { CliStorageOptions } from './options';
import type { TargetSpec } from '../shared/state/run-record';
import { targetFor } from './target-wiring';

export interface Wiring {
  env: CliEnvironment;
  processEnv: NodeJS.ProcessEnv;
  log: Logger;
  progress: ProgressListener;
  target: TargetSpec;
  stateDir?: string;
  /** Where the target posts webhooks (the URL carries the secret path token); absent when polling. */
  webhook?: { notificationsUrl: string };
  /** Per-location options and GCS credentials from flags. */
  storage?: CliStorageOptions;
  /** The command never touches the source (e.g. `export`): its credentials are not required. */
  sourceUnused?: boolean;
  /** `--allow-http-references` (the environment may opt in too). */
  allowHttpReferences?: boolean;
  /** The bucket of the S3 Inventory report the run reads (S3 delivers it in the source bucket's region). */
  inventoryBucket?: string;
}

const NO_STORAGE_FLAGS: CliStorageOptions = { source: {}, dest: {}, gcs: {} };

/**
 * The stores of one CLI command, through the shared StoreFactory: s3:// with the standard AWS
 * settings (plus per-location region / requester pays), gs:// with the GCS settings above,
 * checked up front for every location the command uses (bad input → exit 2, nothing written).
 */
export function cliStores(
  processEnv: NodeJS.ProcessEnv,
  locations: { source: BucketLocation; dest: BucketLocation },
  storage: CliStorageOptions = NO_STORAGE_FLAGS,
  options: { sourceUnused?: boolean; log?: Logger } = {},
): { source: ObjectStore; dest: ObjectStore; factory: StoreFactory } {
  const settings = (): GcsSettings => ({
    ...cliGcsSettings(processEnv, storage.gcs),
    onSignRetry: options.log && (({ attempt, delayMs, reason }) => options.log!.warn('GCS signBlob retried', { attempt, delayMs, reason })),
  });
  const usesGcs = (options.sourceUnused ? [locations.dest] : [locations.source, locations.dest]).some((l) => l.scheme === 'gs');
  const gcs = usesGcs ? settings() : undefined;
  const factory = new StoreFactory({
    s3: s3SettingsFromEnv(processEnv),
    // An unused gs:// source never resolves its settings, so missing credentials only matter when used.
    gcs: gcs ?? (async () => settings()),
  });
  return {
    source: factory.storeFor(locations.source, storage.source),
    dest: factory.storeFor(locations.dest, storage.dest),
    factory,
  };
}

/** Builds the ports for one CLI command from the environment and flags. */
export function wire(w: Wiring, source: BucketLocation, dest: BucketLocation): BridgeDeps {
  const stores = cliStores(w.processEnv, { source, dest }, w.storage, { sourceUnused: w.sourceUnused, log: w.log });
  return {
    source: stores.source,
    dest: stores.dest,
    inventory: w.inventoryBucket ? stores.factory.storeFor({ scheme: 's3', bucket: w.inventoryBucket, prefix: '' }, { region: w.storage?.source.region }) : undefined,
    state: new FileStateStore(w.stateDir ?? w.env.BUCKET_BRIDGE_STATE_DIR),
    target: targetFor(w.target, w.env, w.log, w.webhook, w.allowHttpReferences),
    log: w.log,
    progress: w.progress,
    exportLimits: {
      maxUnpackedBytes: w.env.BUCKET_BRIDGE_ARCHIVE_MAX_BYTES,
      maxMembers: w.env.BUCKET_BRIDGE_ARCHIVE_MAX_MEMBERS,
      maxExpansionRatio: w.env.BUCKET_BRIDGE_ARCHIVE_MAX_RATIO,
      copyTimeoutSeconds: w.env.BUCKET_BRIDGE_COPY_TIMEOUT_SECONDS,
    },
  };
}
