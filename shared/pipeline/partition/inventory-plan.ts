import type { ObjectStore } from '../../storage/port';
import { inventoryPartitions, type InventoryPartition } from './inventory';
import type { InventorySource } from './inventory-location';
import { readInventoryManifest } from './inventory-manifest';

/**
 * The partitions of a run that reads an S3 Inventory report: one per data file of its manifest,
 * in the manifest's order, read with no listing. The manifest is checked against its
 * manifest.checksum and must be an inventory of the run's source bucket.
 */
export async function planInventoryPartitions(
  store: ObjectStore | undefined,
  inventory: InventorySource,
  source: { bucket: string; prefix: string },
): Promise<InventoryPartition[]> {
  const where = `s3://${inventory.bucket}/${inventory.manifestKey}`;
  if (!store) throw new Error(`the run reads the inventory ${where}, but no store of that bucket was wired`);
  const manifest = await readInventoryManifest(store, inventory.manifestKey);
  if (manifest.sourceBucket !== source.bucket) throw new Error(`${where}: an inventory of ${manifest.sourceBucket}, not of the run's source bucket ${source.bucket}`);
  return inventoryPartitions(inventory, manifest, source.prefix);
}
