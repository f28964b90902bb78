import type { ObjectStore, StoredObject } from '../../storage/port';
import { csvRows } from './inventory-csv';
import { downloadDataFile, type InventoryDataFile } from './inventory-download';
import type { InventorySource } from './inventory-location';
import type { InventoryFormat, ReadableManifest } from './inventory-manifest';
import { parquetRows } from './inventory-parquet';
import type { InventoryRow } from './inventory-row';

/**
 * One data file of an S3 Inventory report as a partition of a run's source: its objects are read
 * from the file, with no listing at all. Data files are not sorted by key, so a partition cut off
 * mid-way resumes by row count (`skipRows`), not after a key.
 */
export interface InventoryPartition {
  kind: 'inventory';
  /** The bucket the inventory is delivered to. */
  bucket: string;
  file: InventoryDataFile;
  format: InventoryFormat;
  /** The manifest's `fileSchema` (CSV: the columns; Parquet: the message schema). */
  schema: string;
  /** Only current versions of this bucket's objects under `prefix` are read. */
  sourceBucket: string;
  prefix: string;
  /** Rows of the file already handed on. */
  skipRows?: number;
}

/** Each data file of the manifest is one partition, in the manifest's order. */
export function inventoryPartitions(source: InventorySource, manifest: ReadableManifest, prefix: string): InventoryPartition[] {
  return manifest.files.map((f) => ({
    kind: 'inventory',
    bucket: source.bucket,
    file: { key: f.key, size: f.size, md5: f.MD5checksum },
    format: manifest.fileFormat,
    schema: manifest.fileSchema,
    sourceBucket: manifest.sourceBucket,
    prefix,
  }));
}

/** Without a page to hand on, a page (maybe empty) still goes out this often, so a filtered file's position moves on. */
const ROWS_PER_PROGRESS_PAGE_FACTOR = 50;

/**
 * The objects of one inventory partition in pages of at most `pageSize`, each with the row
 * position after it (the `skipRows` that resumes right after the page). The data file is checked
 * against the manifest's size and MD5 before any row is read (see inventory-download.ts), and its
 * local copy is removed when reading ends. Left out, as a listing would not return them: rows of
 * other buckets, versions that are not current, delete markers, and keys outside the prefix.
 */
export async function* readInventoryPartition(
  store: ObjectStore,
  partition: InventoryPartition,
  pageSize: number,
): AsyncGenerator<{ objects: StoredObject[]; position: number }> {
  const local = await downloadDataFile(store, partition.file);
  try {
    const skip = partition.skipRows ?? 0;
    const batches = partition.format === 'Parquet' ? parquetRows(local.path, skip) : csvRows(local.path, partition.schema, skip);
    let page: StoredObject[] = [];
    let position = skip;
    let sinceYield = 0;
    for await (const batch of batches) {
      for (let i = 0; i < batch.rows.length; i++) {
        const object = currentObject(batch.rows[i]!, partition);
        position = batch.first + i + 1;
        sinceYield++;
        if (object) page.push(object);
        if (page.length === pageSize || sinceYield >= pageSize * ROWS_PER_PROGRESS_PAGE_FACTOR) {
          yield { objects: page, position };
          page = [];
          sinceYield = 0;
        }
      }
    }
    if (page.length > 0) yield { objects: page, position };
  } finally {
    await local.remove();
  }
}

function currentObject(row: InventoryRow, partition: InventoryPartition): StoredObject | undefined {
  if (row.bucket !== undefined && row.bucket !== partition.sourceBucket) return undefined;
  if (row.isLatest === false || row.isDeleteMarker === true) return undefined;
  if (!row.key.startsWith(partition.prefix)) return undefined;
  return {
    key: row.key,
    size: row.size ?? 0,
    ...(row.etag ? { etag: row.etag.replaceAll('"', '') } : {}),
    ...(row.lastModified ? { lastModified: row.lastModified } : {}),
  };
}
