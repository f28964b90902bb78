import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvFields } from '../../shared/pipeline/partition/inventory-csv';
import { inventoryPartitions, type InventoryPartition } from '../../shared/pipeline/partition/inventory';
import { downloadDataFile } from '../../shared/pipeline/partition/inventory-download';
import { pickInventory, type InventoryRequest } from '../../shared/pipeline/partition/inventory-location';
import { readInventoryManifest } from '../../shared/pipeline/partition/inventory-manifest';
import { listPartitionPages } from '../../shared/pipeline/partition/listing';
import type { Partition } from '../../shared/pipeline/partition/partition';
import type { StoredObject } from '../../shared/storage/port';
import { startTestS3, type TestS3 } from '../support/s3';
import { writeInventory, type InventoryEntry } from '../support/s3-inventory';

const DEST = 'inventory-dest';
const SOURCE = 'media-bucket';
const AT = new Date('2026-12-01T10:00:00.000Z');

/** Current objects under cams/ (awkward keys among them), and rows a listing would not return. */
const CURRENT: InventoryEntry[] = [
  { key: 'cams/a/shot 1.jpg', size: 2048, etag: 'etag1', lastModified: AT },
  { key: 'cams/a/1+1=2, "quoted".jpg', size: 10, etag: 'etag2', lastModified: AT },
  { key: 'cams/日本/写真.png', size: 7, etag: 'etag3', lastModified: AT },
  { key: 'cams/a/100% real?.jpg', size: 8, etag: 'etag4', lastModified: AT },
  ...Array.from({ length: 25 }, (_, i) => ({ key: `cams/b/${i}.jpg`, size: 100 + i, etag: `e${i}`, lastModified: AT })),
];
const NOT_LISTED: InventoryEntry[] = [
  { key: 'cams/a/old.jpg', size: 5, versionId: 'v1', isLatest: false, lastModified: AT },
  { key: 'cams/a/shot 1.jpg', size: 999, versionId: 'v0', isLatest: false, lastModified: AT },
  { key: 'cams/a/deleted.jpg', versionId: 'v2', isLatest: true, isDeleteMarker: true, lastModified: AT },
  { key: 'elsewhere/x.jpg', size: 9, etag: 'etag5', lastModified: AT },
  { key: 'cams/other-bucket.jpg', size: 9, bucket: 'another-bucket', lastModified: AT },
];
/** Data files are not sorted by key: the rows are interleaved. */
const ROWS = [...CURRENT, ...NOT_LISTED].sort((a, b) => (a.key.length * 7 + (a.size ?? 0)) % 11 - (b.key.length * 7 + (b.size ?? 0)) % 11);
const EXPECTED: StoredObject[] = CURRENT.map((e) => ({ key: e.key, size: e.size!, etag: e.etag!, lastModified: AT }));

const byKey = (objects: StoredObject[]) => [...objects].sort((a, b) => (a.key < b.key ? -1 : 1));

async function readAll(s3: TestS3, partitions: Partition[], pageSize: number) {
  const pages: Array<{ objects: StoredObject[]; rest?: Partition }> = [];
  for (const partition of partitions) {
    for await (const page of listPartitionPages({ source: s3.store(SOURCE), inventory: s3.store(DEST) }, partition, pageSize)) pages.push(page);
  }
  return pages;
}

describe('S3 Inventory partitions against the local S3 server', () => {
  let s3: TestS3;
  const request = (key: string, maxAgeDays = 7): InventoryRequest => ({ bucket: DEST, key, maxAgeDays, setting: '--inventory' });
  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [DEST, SOURCE] });
  });
  afterAll(() => s3?.server.close());

  for (const format of ['CSV', 'Parquet'] as const) {
    it(`${format}: each data file is a partition; its objects are the current versions under the prefix, keys as stored`, async () => {
      const inventory = await writeInventory(s3.store(DEST), { sourceBucket: SOURCE, entries: ROWS, format, prefix: `${format}/`, rowsPerFile: 12, rowGroupSize: 5, createdAt: AT });
      const { source, manifest } = await pickInventory(s3.store(DEST), request(inventory.configPrefix), { sourceBucket: SOURCE, now: AT });
      expect(source.manifestKey).toBe(inventory.manifestKey);
      const partitions = inventoryPartitions(source, manifest, 'cams/');
      expect(partitions.map((p) => p.file.key)).toEqual(inventory.dataKeys);
      expect(partitions).toHaveLength(3);

      const pages = await readAll(s3, partitions, 4);
      expect(byKey(pages.flatMap((p) => p.objects))).toEqual(byKey(EXPECTED));
      expect(Math.max(...pages.map((p) => p.objects.length))).toBe(4);
    });

    it(`${format}: a partition cut off after any page resumes from its row count: every object once`, async () => {
      const inventory = await writeInventory(s3.store(DEST), { sourceBucket: SOURCE, entries: ROWS, format, prefix: `${format}-cut/`, rowGroupSize: 4, createdAt: AT });
      const manifest = await readInventoryManifest(s3.store(DEST), inventory.manifestKey);
      const [partition] = inventoryPartitions({ bucket: DEST, manifestKey: inventory.manifestKey }, manifest, 'cams/');
      const pages = await readAll(s3, [partition!], 3);
      expect(pages.length).toBeGreaterThan(5);
      for (let cut = 0; cut < pages.length - 1; cut++) {
        const rest = pages[cut]!.rest as InventoryPartition;
        expect(rest.skipRows).toBeGreaterThan(0);
        const resumed = await readAll(s3, [rest], 3);
        const keys = [...pages.slice(0, cut + 1).flatMap((p) => p.objects), ...resumed.flatMap((p) => p.objects)].map((o) => o.key);
        expect(keys.sort()).toEqual(EXPECTED.map((o) => o.key).sort());
      }
      expect(pages.at(-1)!.rest).toBeUndefined();
    });
  }

  it('picks the newest complete manifest under the config id prefix (one without manifest.checksum is not finished)', async () => {
    const store = s3.store(DEST);
    const options = { sourceBucket: SOURCE, entries: CURRENT.slice(0, 2), format: 'CSV' as const, prefix: 'newest/' };
    await writeInventory(store, { ...options, createdAt: new Date('2026-11-29T01:00:00Z') });
    const newest = await writeInventory(store, { ...options, createdAt: new Date('2026-11-30T01:00:00Z') });
    await writeInventory(store, { ...options, createdAt: new Date('2026-12-01T01:00:00Z'), withoutChecksum: true });
    const picked = await pickInventory(store, request(newest.configPrefix.slice(0, -1)), { sourceBucket: SOURCE, now: AT });
    expect(picked.source.manifestKey).toBe('newest/media-bucket/daily/2026-11-30T01-00Z/manifest.json');
    expect(picked.createdAt).toEqual(new Date('2026-11-30T01:00:00Z'));

    await expect(pickInventory(store, request('newest/media-bucket/daily/2026-12-01T01-00Z/manifest.json'), { sourceBucket: SOURCE, now: AT })).rejects.toThrow(
      /2026-12-01T01-00Z\/manifest.json: no manifest.checksum beside it/,
    );
    await expect(pickInventory(store, request('newest/media-bucket/nothing/'), { sourceBucket: SOURCE, now: AT })).rejects.toThrow(/--inventory: .*no manifest folders/);
  });

  it('refuses an inventory older than the maximum age, naming its date', async () => {
    const inventory = await writeInventory(s3.store(DEST), { sourceBucket: SOURCE, entries: CURRENT, format: 'CSV', prefix: 'stale/', createdAt: new Date('2026-11-20T03:00:00Z') });
    const pick = (maxAgeDays: number) => pickInventory(s3.store(DEST), request(inventory.configPrefix, maxAgeDays), { sourceBucket: SOURCE, now: AT });
    await expect(pick(7)).rejects.toThrow(/--inventory: expected an inventory at most 7 days old.*created 2026-11-20T03:00:00.000Z \(11 days ago\)/);
    await expect(pick(12)).resolves.toMatchObject({ source: { manifestKey: inventory.manifestKey } });
  });

  it('refuses, before the run exists, an inventory with more data files than a plan holds partitions, naming the count and what to do', async () => {
    const inventory = await writeInventory(s3.store(DEST), { sourceBucket: SOURCE, entries: ROWS, format: 'CSV', prefix: 'many/', rowsPerFile: 12, createdAt: AT });
    const pick = (maxDataFiles: number) => pickInventory(s3.store(DEST), { ...request(inventory.configPrefix), setting: 'sources[id=cams].inventory', maxDataFiles }, { sourceBucket: SOURCE, now: AT });
    await expect(pick(2)).rejects.toThrow(
      /sources\[id=cams\]\.inventory: expected an inventory of at most 2 data files \(each is a partition of the run; split the source: .*\), got ".*manifest\.json \(3 data files\)"/,
    );
    await expect(pick(3)).resolves.toMatchObject({ source: { manifestKey: inventory.manifestKey } });
  });

  it('refuses an inventory of another bucket, and ORC inventories by name', async () => {
    const other = await writeInventory(s3.store(DEST), { sourceBucket: 'not-the-source', entries: CURRENT, format: 'CSV', prefix: 'other/', createdAt: AT });
    await expect(pickInventory(s3.store(DEST), request(other.manifestKey), { sourceBucket: SOURCE, now: AT })).rejects.toThrow(
      /expected an inventory of the source bucket media-bucket.*an inventory of not-the-source/,
    );
    const orc = JSON.stringify({ sourceBucket: SOURCE, destinationBucket: 'd', fileFormat: 'ORC', fileSchema: 'struct<bucket:string,key:string>', files: [] });
    await s3.store(DEST).write('orc/manifest.json', orc);
    await s3.store(DEST).write('orc/manifest.checksum', (await import('node:crypto')).createHash('md5').update(orc).digest('hex'));
    await expect(readInventoryManifest(s3.store(DEST), 'orc/manifest.json')).rejects.toThrow(/ORC inventories are not read \(CSV and Parquet are\)/);
  });

  it('fails on a manifest or data file that does not match its checksum, naming it, before any row is read', async () => {
    const store = s3.store(DEST);
    const inventory = await writeInventory(store, { sourceBucket: SOURCE, entries: ROWS, format: 'Parquet', prefix: 'damaged/', rowsPerFile: 20, createdAt: AT });
    const manifest = await readInventoryManifest(store, inventory.manifestKey);
    const [first, second] = inventoryPartitions({ bucket: DEST, manifestKey: inventory.manifestKey }, manifest, 'cams/');

    // A data file replaced by one of the same size.
    const original = Buffer.from(await (await store.read(first!.file.key)).toArray().then((c) => Buffer.concat(c as Buffer[])));
    const replaced = Buffer.from(original);
    replaced[10] = replaced[10]! ^ 0xff;
    await store.write(first!.file.key, replaced);
    const pages: unknown[] = [];
    const reading = (async () => {
      for await (const page of listPartitionPages({ source: s3.store(SOURCE), inventory: store }, first!, 5)) pages.push(page);
    })();
    await expect(reading).rejects.toThrow(new RegExp(`inventory data file s3://${DEST}/${first!.file.key}: its MD5 is [0-9a-f]{32}, the manifest says ${first!.file.md5}`));
    expect(pages).toEqual([]);

    // A truncated one.
    await store.write(second!.file.key, original.subarray(0, 8));
    await expect(readAll(s3, [second!], 5)).rejects.toThrow(/: 8 bytes read, the manifest says \d+/);

    // A data file larger than the temporary space left is refused before it is copied.
    const huge = { ...second!, file: { ...second!.file, size: 2 ** 52 } };
    await expect(readAll(s3, [huge], 5)).rejects.toThrow(
      new RegExp(`${second!.file.key}: ${2 ** 52} bytes, more than the \\d+ bytes free in .*; deployed: raise discovery\\.inventoryStorageMiB, the partition function's ephemeral storage`),
    );

    // The manifest itself edited after its checksum was written.
    await store.write(inventory.manifestKey, JSON.stringify({ ...manifest, files: manifest.files.slice(1) }));
    await expect(readInventoryManifest(store, inventory.manifestKey)).rejects.toThrow(/damaged\/media-bucket\/daily\/.*manifest.json: its MD5 is [0-9a-f]{32}, but manifest.checksum says/);
  });

  it('data files copied at once share the free temporary space: one that would not fit beside the others is refused before its copy', async () => {
    const store = s3.store(DEST);
    const inventory = await writeInventory(store, { sourceBucket: SOURCE, entries: ROWS, format: 'CSV', prefix: 'space/', rowsPerFile: 12, createdAt: AT });
    const manifest = await readInventoryManifest(store, inventory.manifestKey);
    const [a, b, c] = inventoryPartitions({ bucket: DEST, manifestKey: inventory.manifestKey }, manifest, 'cams/').map((p) => p.file);
    // Room for a and b together, not for c beside them (the space measured before any copy began).
    const free = async () => a!.size + b!.size + c!.size - 1;
    const copies = await Promise.allSettled([a, b, c].map((file) => downloadDataFile(store, file!, free)));
    expect(copies.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((copies[2] as PromiseRejectedResult).reason.message).toMatch(
      new RegExp(`${c!.key}: ${c!.size} bytes, more than the ${c!.size - 1} bytes free in .* \\(${a!.size + b!.size + c!.size - 1} free, ${a!.size + b!.size} of them needed by the data files being copied\\)`),
    );
    for (const r of copies) if (r.status === 'fulfilled') await r.value.remove();
    // Once those copies are done, their space is theirs on disk (the measure sees it): nothing stays promised.
    await expect(downloadDataFile(store, c!, free).then((local) => local.remove())).resolves.toBeUndefined();
  });

  it('splits CSV fields: quoted with doubled quotes, bare, empty', () => {
    expect(csvFields('"a","b ""c"", d",,e,""')).toEqual(['a', 'b "c", d', '', 'e', '']);
  });
});
