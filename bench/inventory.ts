import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInventoryPartition } from '../shared/pipeline/partition/inventory';
import type { ObjectStore } from '../shared/storage/port';
import { CSV_SCHEMA, inventoryDataFile, PARQUET_SCHEMA } from '../test/support/s3-inventory';
import { benchKey, reportResult } from './lib';

/**
 * One S3 Inventory data file of <count> rows read as a run reads it (copied to a temporary file
 * with its MD5 checked, then parsed: CSV line by line, Parquet in ranges of rows, column by
 * column), objects handed on in pages of 1,000. `Parquet` has row groups of 100,000 rows,
 * `Parquet1` the same rows in one row group (memory must not follow the group's size).
 * Generation runs in its own process, so the reader's peak RSS is its own.
 * Usage: inventory.ts generate <dir> <count> | inventory.ts read <dir> CSV|Parquet|Parquet1
 */
const [step, dir = '.', arg = '1000000'] = process.argv.slice(2);
const ROW_GROUP = 100_000;
const FILES = { CSV: 'data.csv.gz', Parquet: 'data.parquet', Parquet1: 'data-one-group.parquet' } as const;
type BenchFormat = keyof typeof FILES;
const fileOf = (format: BenchFormat) => join(dir, FILES[format]);

if (step === 'generate') {
  const count = Number(arg);
  const at = new Date('2026-12-01T00:00:00Z');
  const rows = Array.from({ length: count }, (_, i) => ({ key: benchKey('incoming/', i), size: 1000 + i, etag: i.toString(16), lastModified: at }));
  const files: Record<string, { size: number; md5: string }> = {};
  for (const format of ['CSV', 'Parquet', 'Parquet1'] as const) {
    const body = inventoryDataFile(format === 'CSV' ? 'CSV' : 'Parquet', 'media', rows, format === 'Parquet1' ? count : ROW_GROUP);
    writeFileSync(fileOf(format), body);
    files[format] = { size: body.length, md5: createHash('md5').update(body).digest('hex') };
  }
  // What the manifest would say of each file, so the reader checks it without reading it twice.
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(files));
  reportResult({ rows: count });
} else {
  const benchFormat = arg as BenchFormat;
  const format = benchFormat === 'CSV' ? 'CSV' : 'Parquet';
  const path = fileOf(benchFormat);
  const listed = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, { size: number; md5: string }>)[benchFormat]!;
  const file = { key: path, ...listed };
  const store = { bucket: 'inventory', read: async () => createReadStream(path) } as unknown as ObjectStore;
  const partition = { kind: 'inventory', bucket: 'inventory', file, format, schema: format === 'CSV' ? CSV_SCHEMA : PARQUET_SCHEMA, sourceBucket: 'media', prefix: 'incoming/' } as const;
  const started = performance.now();
  let objects = 0;
  for await (const page of readInventoryPartition(store, partition, 1000)) objects += page.objects.length;
  const seconds = (performance.now() - started) / 1000;
  reportResult({ objects, seconds, perSecond: objects / seconds, bytes: statSync(path).size, liveHeap: process.memoryUsage().heapUsed });
}
