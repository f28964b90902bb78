import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type Compressors } from 'hyparquet';
import type { InventoryRow, RowBatches } from './inventory-row';

/** The Parquet columns S3 writes for the fields a run reads. */
const COLUMNS = ['bucket', 'key', 'is_latest', 'is_delete_marker', 'size', 'last_modified_date', 'e_tag'] as const;

/** hyparquet decodes Snappy itself; the other codecs S3 or other writers may use come from node:zlib. */
const zstdDecompressSync = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS: Compressors = {
  GZIP: (input) => gunzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
  ...(zstdDecompressSync ? { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) } : {}),
};

/** The column names of a Parquet `fileSchema` (`message s3.inventory { required binary key (UTF8); … }`). */
export function parquetColumns(fileSchema: string): string[] {
  const columns = [...fileSchema.matchAll(/(?:required|optional|repeated)\s+\w+\s+(\w+)/g)].map((m) => m[1]!);
  if (!columns.includes('key')) throw new Error(`inventory schema "${fileSchema}" has no key column`);
  return columns;
}

/**
 * The rows of a local Parquet data file, one row group at a time (memory holds one row group's
 * columns the run reads, never the whole file), from row `skipRows` on. Parquet inventories
 * carry keys as they are (not URL-encoded).
 */
export async function* parquetRows(path: string, skipRows: number): RowBatches {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const present = new Set(metadata.schema.slice(1).map((s) => s.name));
  if (!present.has('key')) throw new Error('inventory Parquet data file has no key column');
  const columns = COLUMNS.filter((c) => present.has(c));
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    const rowStart = Math.max(groupStart, skipRows);
    if (rowStart < groupEnd) {
      const objects = await parquetReadObjects({ file, metadata, columns: [...columns], rowStart, rowEnd: groupEnd, compressors: COMPRESSORS });
      yield { rows: objects.map(toRow), first: rowStart };
    }
    groupStart = groupEnd;
  }
}

function toRow(o: Record<string, unknown>): InventoryRow {
  return {
    bucket: (o.bucket ?? undefined) as string | undefined,
    key: String(o.key),
    isLatest: (o.is_latest ?? undefined) as boolean | undefined,
    isDeleteMarker: (o.is_delete_marker ?? undefined) as boolean | undefined,
    size: o.size === undefined || o.size === null ? undefined : Number(o.size),
    etag: (o.e_tag ?? undefined) as string | undefined,
    lastModified: o.last_modified_date instanceof Date ? o.last_modified_date : undefined,
  };
}
