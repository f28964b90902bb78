import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ObjectStore } from '../../shared/storage/port';

/** One row of a generated inventory, with the fields S3 writes. */
export interface InventoryEntry {
  key: string;
  size?: number;
  etag?: string;
  lastModified?: Date;
  versionId?: string;
  isLatest?: boolean;
  isDeleteMarker?: boolean;
  /** Default: the inventory's source bucket. */
  bucket?: string;
}

export interface GeneratedInventory {
  /** `<prefix><source bucket>/<config id>/`: what a run is pointed at for the newest manifest. */
  configPrefix: string;
  manifestKey: string;
  dataKeys: string[];
}

export const CSV_SCHEMA = 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass';
export const PARQUET_SCHEMA =
  'message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); optional binary storage_class (UTF8);}';

/** URL-encodes a key the way CSV inventories carry it (a space as '+', '+' itself as %2B, '/' kept). */
export const csvEncodedKey = (key: string) => encodeURIComponent(key).replaceAll('%20', '+').replaceAll('%2F', '/');

const md5 = (body: Buffer | string) => createHash('md5').update(body).digest('hex');

/**
 * Writes an S3 Inventory report as S3 delivers it: data files under `<config>/data/`, then
 * `<config>/<YYYY-MM-DDTHH-MMZ>/manifest.json` and its `manifest.checksum`.
 */
export async function writeInventory(
  store: ObjectStore,
  options: {
    sourceBucket: string;
    entries: InventoryEntry[];
    format: 'CSV' | 'Parquet';
    prefix?: string;
    configId?: string;
    createdAt?: Date;
    /** Rows per data file (default: one file). */
    rowsPerFile?: number;
    /** Parquet rows per row group. */
    rowGroupSize?: number;
    /** Leave manifest.checksum out (an inventory S3 has not finished writing). */
    withoutChecksum?: boolean;
  },
): Promise<GeneratedInventory> {
  const createdAt = options.createdAt ?? new Date();
  const configPrefix = `${options.prefix ?? ''}${options.sourceBucket}/${options.configId ?? 'daily'}/`;
  const stamp = createdAt.toISOString().slice(0, 16).replace(':', '-') + 'Z';
  const perFile = options.rowsPerFile ?? Math.max(1, options.entries.length);
  const files: Array<{ key: string; size: number; MD5checksum: string }> = [];
  for (let i = 0; i < Math.max(1, options.entries.length); i += perFile) {
    const rows = options.entries.slice(i, i + perFile);
    const body = inventoryDataFile(options.format, options.sourceBucket, rows, options.rowGroupSize);
    const key = `${configPrefix}data/${randomUUID()}.${options.format === 'CSV' ? 'csv.gz' : 'parquet'}`;
    await store.write(key, body);
    files.push({ key, size: body.length, MD5checksum: md5(body) });
  }
  const manifest = JSON.stringify({
    sourceBucket: options.sourceBucket,
    destinationBucket: `arn:aws:s3:::${store.bucket}`,
    version: '2016-11-30',
    creationTimestamp: String(createdAt.getTime()),
    fileFormat: options.format,
    fileSchema: options.format === 'CSV' ? CSV_SCHEMA : PARQUET_SCHEMA,
    files,
  });
  const manifestKey = `${configPrefix}${stamp}/manifest.json`;
  await store.write(manifestKey, manifest);
  if (!options.withoutChecksum) await store.write(`${configPrefix}${stamp}/manifest.checksum`, md5(manifest));
  return { configPrefix, manifestKey, dataKeys: files.map((f) => f.key) };
}

/** One data file as S3 writes it: gzip CSV (keys URL-encoded) or Parquet (with `rowGroupSize` rows per group). */
export function inventoryDataFile(format: 'CSV' | 'Parquet', sourceBucket: string, rows: InventoryEntry[], rowGroupSize?: number): Buffer {
  return format === 'CSV' ? csvBody(sourceBucket, rows) : parquetBody(sourceBucket, rows, rowGroupSize);
}

function csvBody(sourceBucket: string, rows: InventoryEntry[]): Buffer {
  const quoted = (v: string) => `"${v.replaceAll('"', '""')}"`;
  const lines = rows.map((r) =>
    [
      r.bucket ?? sourceBucket,
      csvEncodedKey(r.key),
      r.versionId ?? '',
      String(r.isLatest ?? true),
      String(r.isDeleteMarker ?? false),
      r.isDeleteMarker ? '' : String(r.size ?? 0),
      (r.lastModified ?? new Date(0)).toISOString(),
      r.etag ?? '',
      'STANDARD',
    ]
      .map(quoted)
      .join(','),
  );
  return gzipSync(lines.join('\n') + '\n');
}

function parquetBody(sourceBucket: string, rows: InventoryEntry[], rowGroupSize?: number): Buffer {
  const column = <T>(pick: (r: InventoryEntry) => T) => rows.map(pick);
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'bucket', data: column((r) => r.bucket ?? sourceBucket), type: 'STRING', nullable: false },
      { name: 'key', data: column((r) => r.key), type: 'STRING', nullable: false },
      { name: 'version_id', data: column((r) => r.versionId ?? null), type: 'STRING' },
      { name: 'is_latest', data: column((r) => r.isLatest ?? true), type: 'BOOLEAN' },
      { name: 'is_delete_marker', data: column((r) => r.isDeleteMarker ?? false), type: 'BOOLEAN' },
      { name: 'size', data: column((r) => (r.isDeleteMarker ? null : BigInt(r.size ?? 0))), type: 'INT64' },
      { name: 'last_modified_date', data: column((r) => r.lastModified ?? new Date(0)), type: 'TIMESTAMP' },
      { name: 'e_tag', data: column((r) => r.etag ?? null), type: 'STRING' },
      { name: 'storage_class', data: column(() => 'STANDARD'), type: 'STRING' },
    ],
    ...(rowGroupSize ? { rowGroupSize } : {}),
  });
  return Buffer.from(buffer);
}

/** The current objects of a bucket as inventory rows (what S3 Inventory would list for it). */
export async function entriesOfBucket(store: ObjectStore, prefix = ''): Promise<InventoryEntry[]> {
  const entries: InventoryEntry[] = [];
  for await (const page of store.list(prefix)) {
    entries.push(...page.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag, lastModified: o.lastModified })));
  }
  return entries;
}
