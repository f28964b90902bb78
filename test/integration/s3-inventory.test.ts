import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvFields, readInventoryFile, readInventoryManifest } from '../../shared/pipeline/partition/inventory';
import type { StoredObject } from '../../shared/storage/port';
import { startTestS3, type TestS3 } from '../support/s3';

const BUCKET = 'inventory-dest';
const ROOT = 'inv/media-bucket/daily/2026-12-04T00-00Z';

/** URL-encodes a key the way CSV inventories carry it (a space as '+', '+' itself as %2B). */
const encoded = (key: string) => encodeURIComponent(key).replaceAll('%20', '+').replaceAll('%2F', '/');
const row = (fields: string[]) => fields.map((f) => `"${f.replaceAll('"', '""')}"`).join(',');

const FILE_A = [
  ['media-bucket', encoded('cams/a/shot 1.jpg'), '2048', '2026-12-01T10:00:00.000Z', 'etag1', 'true', 'false'],
  ['media-bucket', encoded('cams/a/1+1=2, "quoted".jpg'), '10', '2026-12-01T10:00:00.000Z', 'etag2', 'true', 'false'],
  ['media-bucket', encoded('cams/日本/写真.png'), '7', '2026-12-01T10:00:00.000Z', 'etag3', 'true', 'false'],
  ['media-bucket', encoded('cams/a/old.jpg'), '5', '2026-11-01T10:00:00.000Z', 'etag4', 'false', 'false'],
  ['media-bucket', encoded('cams/a/deleted.jpg'), '0', '2026-12-01T10:00:00.000Z', '', 'true', 'true'],
  ['media-bucket', encoded('elsewhere/x.jpg'), '9', '2026-12-01T10:00:00.000Z', 'etag5', 'true', 'false'],
];
const FILE_B = Array.from({ length: 25 }, (_, i) => ['media-bucket', encoded(`cams/b/${i}.jpg`), String(100 + i), '2026-12-01T10:00:00.000Z', `e${i}`, 'true', 'false']);

describe('S3 Inventory reader (CSV) against the local S3 server', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [BUCKET] });
    const store = s3.store(BUCKET);
    await store.write(`${ROOT}/data/a.csv.gz`, gzipSync(FILE_A.map(row).join('\n') + '\n'));
    await store.write(`${ROOT}/data/b.csv.gz`, gzipSync(FILE_B.map(row).join('\r\n')));
    await store.write(
      `${ROOT}/manifest.json`,
      JSON.stringify({
        sourceBucket: 'media-bucket',
        destinationBucket: `arn:aws:s3:::${BUCKET}`,
        version: '2016-11-30',
        creationTimestamp: '1733270400000',
        fileFormat: 'CSV',
        fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag, IsLatest, IsDeleteMarker',
        files: [
          { key: `${ROOT}/data/a.csv.gz`, size: 1, MD5checksum: 'x' },
          { key: `${ROOT}/data/b.csv.gz`, size: 1, MD5checksum: 'y' },
        ],
      }),
    );
    await store.write(`${ROOT}/parquet-manifest.json`, JSON.stringify({ sourceBucket: 'm', destinationBucket: 'd', fileFormat: 'Parquet', fileSchema: 'message s3.inventory {}', files: [] }));
  });
  afterAll(() => s3?.server.close());

  it('reads each data file as one partition: decoded keys under the prefix, current versions only, in pages', async () => {
    const store = s3.store(BUCKET);
    const manifest = await readInventoryManifest(store, `${ROOT}/manifest.json`);
    expect(manifest.files.map((f) => f.key)).toEqual([`${ROOT}/data/a.csv.gz`, `${ROOT}/data/b.csv.gz`]);

    const pages: StoredObject[][] = [];
    for await (const page of readInventoryFile(store, manifest, manifest.files[0]!.key, { prefix: 'cams/', pageSize: 2 })) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    expect(pages.flat()).toEqual([
      { key: 'cams/a/shot 1.jpg', size: 2048, etag: 'etag1', lastModified: new Date('2026-12-01T10:00:00.000Z') },
      { key: 'cams/a/1+1=2, "quoted".jpg', size: 10, etag: 'etag2', lastModified: new Date('2026-12-01T10:00:00.000Z') },
      { key: 'cams/日本/写真.png', size: 7, etag: 'etag3', lastModified: new Date('2026-12-01T10:00:00.000Z') },
    ]);

    const second: StoredObject[] = [];
    for await (const page of readInventoryFile(store, manifest, manifest.files[1]!.key, { prefix: 'cams/', pageSize: 10 })) second.push(...page);
    expect(second.map((o) => o.key)).toEqual(FILE_B.map((_, i) => `cams/b/${i}.jpg`));
    expect(second[24]!.size).toBe(124);
  });

  it('refuses an inventory in another format, naming it', async () => {
    await expect(readInventoryManifest(s3.store(BUCKET), `${ROOT}/parquet-manifest.json`)).rejects.toThrow(/Parquet inventories are not read yet/);
  });

  it('splits CSV fields: quoted with doubled quotes, bare, empty', () => {
    expect(csvFields('"a","b ""c"", d",,e,""')).toEqual(['a', 'b "c", d', '', 'e', '']);
  });
});
