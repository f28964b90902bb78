import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parquetRows } from '../../shared/pipeline/partition/inventory-parquet';
import type { InventoryRow } from '../../shared/pipeline/partition/inventory-row';
import { inventoryDataFile, type InventoryEntry } from '../support/s3-inventory';

const AT = new Date('2026-12-01T10:00:00.000Z');
/** 23 rows in row groups of 10, 10 and 3; some without an ETag, one delete marker (no size). */
const ENTRIES: InventoryEntry[] = Array.from({ length: 23 }, (_, i) => ({
  key: `cams/${String(i).padStart(2, '0')}.jpg`,
  size: 100 + i,
  ...(i % 5 === 0 ? {} : { etag: `e${i}` }),
  ...(i === 7 ? { isDeleteMarker: true, versionId: 'v7' } : {}),
  lastModified: AT,
}));
const EXPECTED: InventoryRow[] = ENTRIES.map((e) => ({
  bucket: 'media',
  key: e.key,
  isLatest: true,
  isDeleteMarker: e.isDeleteMarker ?? false,
  size: e.isDeleteMarker ? undefined : e.size,
  etag: e.etag,
  lastModified: AT,
}));

const dir = mkdtempSync(join(tmpdir(), 'bb-parquet-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'data.parquet');
writeFileSync(path, inventoryDataFile('Parquet', 'media', ENTRIES, 10));

async function batches(skipRows: number, readRows: number) {
  const out: Array<{ first: number; rows: InventoryRow[] }> = [];
  for await (const batch of parquetRows(path, skipRows, readRows)) out.push(batch);
  return out;
}

describe('Parquet inventory rows: read in bounded row ranges', () => {
  it('a row group is read in ranges of at most readRows rows, never across a group\'s end, with the rows of a whole read', async () => {
    const ranged = await batches(0, 4);
    expect(ranged.map((b) => [b.first, b.rows.length])).toEqual([[0, 4], [4, 4], [8, 2], [10, 4], [14, 4], [18, 2], [20, 3]]);
    expect(ranged.flatMap((b) => b.rows)).toEqual(EXPECTED);
    const whole = await batches(0, 1000);
    expect(whole.map((b) => [b.first, b.rows.length])).toEqual([[0, 10], [10, 10], [20, 3]]);
    expect(whole.flatMap((b) => b.rows)).toEqual(EXPECTED);
  });

  it('resumes from any row: the ranges start there', async () => {
    for (const skip of [0, 3, 10, 13, 22, 23]) {
      const ranged = await batches(skip, 4);
      expect(ranged.flatMap((b) => b.rows), `from row ${skip}`).toEqual(EXPECTED.slice(skip));
      for (const b of ranged) expect(b.rows.length).toBeLessThanOrEqual(4);
      expect(ranged[0]?.first ?? 23).toBe(skip);
    }
  });
});
