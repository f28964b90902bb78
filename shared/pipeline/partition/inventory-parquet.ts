import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetScan, type Compressors } from 'hyparquet';
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

/**
 * Rows decoded per read. A row group can hold any number of rows (writers commonly put 100,000 or
 * more in one), so a group is read in ranges of at most this many: memory holds one range's values
 * and the pages they lie in, whatever the group's size. Pages before a range are skipped without
 * being decompressed; a page that spans several ranges is decoded once for each.
 */
export const PARQUET_READ_ROWS = 50_000;

/**
 * The rows of a local Parquet data file from row `skipRows` on, in ranges of at most `readRows`
 * rows, reading only the columns a run uses (`COLUMNS`), column by column: no other column is
 * decoded, and no row group is held whole. Parquet inventories carry keys as they are (not
 * URL-encoded).
 */
export async function* parquetRows(path: string, skipRows: number, readRows = PARQUET_READ_ROWS): RowBatches {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const present = new Set(metadata.schema.slice(1).map((s) => s.name));
  if (!present.has('key')) throw new Error('inventory Parquet data file has no key column');
  const columns = COLUMNS.filter((c) => present.has(c));
  const scan = await parquetScan({ file, metadata, columns: [...columns], compressors: COMPRESSORS });
  // One range per row group: reads never cross a group's end (a read across two would hold both groups' pages).
  for (const group of scan.ranges) {
    for (let rowStart = Math.max(group.rowStart, skipRows); rowStart < group.rowEnd; rowStart += readRows) {
      const rowEnd = Math.min(rowStart + readRows, group.rowEnd);
      const values = new Map<Column, ArrayLike<unknown>>();
      for (const column of columns) values.set(column, await scan.readColumn({ column, rowStart, rowEnd }));
      yield { rows: toRows(values, rowEnd - rowStart), first: rowStart };
    }
  }
}

type Column = (typeof COLUMNS)[number];

function toRows(values: Map<Column, ArrayLike<unknown>>, count: number): InventoryRow[] {
  const column = (name: Column) => values.get(name) ?? [];
  const [bucket, key, latest, deleteMarker, size, modified, etag] = COLUMNS.map(column) as ArrayLike<unknown>[];
  const rows: InventoryRow[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const s = size![i];
    const m = modified![i];
    rows[i] = {
      bucket: (bucket![i] ?? undefined) as string | undefined,
      key: String(key![i]),
      isLatest: (latest![i] ?? undefined) as boolean | undefined,
      isDeleteMarker: (deleteMarker![i] ?? undefined) as boolean | undefined,
      size: s === undefined || s === null ? undefined : Number(s),
      etag: (etag![i] ?? undefined) as string | undefined,
      lastModified: m instanceof Date ? m : undefined,
    };
  }
  return rows;
}
