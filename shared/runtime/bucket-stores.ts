import type { BridgeConfig } from '../config/bridge-config';
import type { BucketLocation } from '../location';
import { parseGcsCredentials, type GcsSettings } from '../storage/gcs-options';
import { s3SettingsFromEnv } from '../storage/s3-client';
import { StoreFactory, type LocationOptions } from '../storage/store-factory';
import type { RuntimeParts } from './parts';

/**
 * The bucket part of a function's runtime: S3 (regions, requester pays from the config) and GCS,
 * whose credentials come from their secret on first use of a gs:// location.
 */
export const bucketStores: NonNullable<RuntimeParts['stores']> = ({ processEnv, config, log, gcsSecret, gcsEndpoint }) => {
  const stores = new StoreFactory({
    s3: s3SettingsFromEnv(processEnv),
    gcs: async (): Promise<GcsSettings> => {
      if (!gcsSecret) throw new Error('GCS_CREDENTIALS_SECRET_ARN is not set for this function');
      const parsed = parseGcsCredentials(await gcsSecret(), 'GCS credentials secret');
      return {
        ...parsed,
        apiEndpoint: gcsEndpoint,
        userProject: config.gcsUserProject ?? parsed.userProject,
        onSignRetry: ({ attempt, delayMs, reason }) => log.warn('GCS signBlob retried', { attempt, delayMs, reason }),
      };
    },
  });
  return (location) => stores.storeFor(location, locationOptions(config, location));
};

/** Region and requester pays of a configured bucket (sources by store and bucket, or the destination). */
function locationOptions(config: BridgeConfig, location: BucketLocation): LocationOptions {
  if (location.scheme !== 's3') return {};
  const { destination } = config;
  const source = config.sources.find((s) => s.store === 's3' && s.bucket === location.bucket);
  const found = source ?? (destination.bucket === location.bucket ? destination : undefined);
  return { region: found?.region, requesterPays: found?.requesterPays };
}
