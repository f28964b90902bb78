import type { SourceConfig } from '../config/bridge-config';
import { errorMessage } from '../errors';
import { pickInventory } from '../pipeline/partition/inventory-location';
import type { RunSpec } from '../state/run-record';
import { MAX_PLAN_PARTITIONS } from './partitions/partition-worker';
import type { ServerlessPorts } from './serverless-ports';

/**
 * The spec of a scheduled run of a source configured with an S3 Inventory: it reads the newest
 * complete report under the configured prefix (checked against its checksum, its source bucket
 * and the maximum age) instead of listing. A report that cannot be used fails the invocation
 * before the run exists, logged with the setting at fault; nothing is submitted.
 */
export async function withNewestInventory(ports: ServerlessPorts, source: SourceConfig, spec: RunSpec): Promise<RunSpec> {
  if (!source.inventory) return spec;
  const { bucket, prefix, maxAgeDays } = source.inventory;
  const setting = `sources[id=${source.id}].inventory`;
  try {
    const picked = await pickInventory(ports.storeFor({ scheme: 's3', bucket, prefix: '' }), { bucket, key: prefix, maxAgeDays, setting, maxDataFiles: MAX_PLAN_PARTITIONS }, { sourceBucket: source.bucket });
    ports.log.info('scheduled run reads an S3 Inventory', {
      sourceId: source.id,
      manifest: picked.source.manifestKey,
      format: picked.manifest.fileFormat,
      dataFiles: picked.manifest.files.length,
      createdAt: picked.createdAt?.toISOString(),
    });
    return { ...spec, inventory: picked.source };
  } catch (err) {
    ports.log.error('S3 Inventory not usable: nothing was submitted', { sourceId: source.id, setting, reason: errorMessage(err) });
    throw err;
  }
}
