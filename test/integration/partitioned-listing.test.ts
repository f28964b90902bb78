import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServiceAccount } from '../../sandbox/gcs-keys';
import { startFakeGcs, type FakeGcsServer } from '../../sandbox/gcs-server';
import { listSource } from '../../shared/pipeline/partition/listing';
import { createGcsClient, createGcsSigner } from '../../shared/storage/gcs-client';
import { GcsStore } from '../../shared/storage/gcs-store';
import type { ListPage, ObjectStore } from '../../shared/storage/port';
import { startTestS3, type TestS3 } from '../support/s3';

const BUCKET = 'partitioned-listing';

/** Folders, a flat folder, objects beside folders, and names sorting around '/' (the fake GCS lists as GCS does). */
const KEYS = [
  ...Array.from({ length: 150 }, (_, i) => `src/flat/img_${String(i * 7).padStart(5, '0')}.jpg`),
  ...['a', 'b', 'c', 'd'].flatMap((cam) => Array.from({ length: 6 }, (_, i) => `src/cams/${cam}/2026-12-0${i}.jpg`)),
  'src/cams.jpg', 'src/cams-old/x.jpg', 'src/cams/readme.txt', 'src/top.jpg', 'src/z/deep/er/1.jpg', 'src/zz.jpg',
  'src/flat.jpg', 'src/flat/', 'outside/x.jpg', 'src.jpg', 'src0/x.jpg',
];

/**
 * s3rver lists in its directory walk's order ('cams/…' before 'cams-old/…' and 'cams.jpg', where S3
 * orders by bytes), so the S3 set has no name beside a folder sorting before '/' (the generated key
 * sets of test/unit/partition.test.ts cover those against S3's listing rules). It also leaves out
 * common prefixes of folders holding only folders (`src/only/`, `src/z/deep/`): the plan's ranges
 * must cover them all the same.
 */
const S3_KEYS = [
  ...Array.from({ length: 150 }, (_, i) => `src/flat/img_${String(i * 7).padStart(5, '0')}.jpg`),
  ...['a', 'b', 'c', 'd'].flatMap((cam) => Array.from({ length: 6 }, (_, i) => `src/cams/${cam}/2026-12-0${i}.jpg`)),
  'src/cams/readme.txt', 'src/top.jpg', 'src/z/1.jpg', 'src/z/deep/1.jpg', 'src/z/deep/er/2.jpg', 'src/zz.jpg', 'outside/x.jpg', 'src0/x.jpg',
  'src/only/a/1.jpg', 'src/only/b/2.jpg', 'src/only/b/c/3.jpg',
];

async function pages(listing: AsyncIterable<ListPage>): Promise<ListPage[]> {
  const out: ListPage[] = [];
  for await (const page of listing) out.push(page);
  return out;
}

const keysOf = (list: ListPage[]) => list.flatMap((p) => p.objects.map((o) => o.key));

/** Through each real client and local server: partitions give exactly one listing's keys, and resume. */
async function expectSameAsOneListing(store: ObjectStore, keys: string[]): Promise<void> {
  const sequential = keysOf(await pages(listSource(store, 'src/', { pageSize: 10, concurrency: 1 })));
  expect([...sequential].sort()).toEqual(keys.filter((k) => k.startsWith('src/')).sort());
  const parallel = await pages(listSource(store, 'src/', { pageSize: 10, concurrency: 4 }));
  expect(keysOf(parallel)).toEqual(sequential);
  const cut = Math.floor(parallel.length / 2);
  const rest = keysOf(await pages(listSource(store, 'src/', { pageSize: 10, concurrency: 4, startToken: parallel[cut - 1]!.nextToken })));
  expect([...keysOf(parallel.slice(0, cut)), ...rest]).toEqual(sequential);
}

describe('partitioned listings through the stores', () => {
  let s3: TestS3;
  let gcs: FakeGcsServer;
  let gcsStore: GcsStore;

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [BUCKET] });
    await Promise.all(S3_KEYS.map((key) => s3.store(BUCKET).write(key, 'x')));
    gcs = await startFakeGcs({ buckets: [BUCKET] });
    const account = generateServiceAccount('partitions');
    gcs.trust(account.email, account.publicKey);
    const settings = { signing: { kind: 'key' as const, key: account.key }, apiEndpoint: gcs.url, projectId: 'local-project', retryOptions: { maxRetries: 1, maxRetryDelay: 1, totalTimeout: 5 } };
    const client = createGcsClient(settings);
    gcsStore = new GcsStore(client, BUCKET, { signer: createGcsSigner(settings, client), signedUrlBase: gcs.url });
    for (const key of KEYS) gcs.put(BUCKET, key, 'x');
  });
  afterAll(async () => {
    await s3?.server.close();
    gcs?.close();
  });

  it('S3 (the local server): delimiter listings name common prefixes, startAfter bounds a listing', async () => {
    const [page] = await pages(s3.store(BUCKET).list('src/', { delimiter: '/', pageSize: 1000 }));
    expect(page!.commonPrefixes).toEqual(['src/cams/', 'src/flat/', 'src/z/']);
    expect(page!.objects.map((o) => o.key)).toEqual(['src/top.jpg', 'src/zz.jpg']);
    const after = keysOf(await pages(s3.store(BUCKET).list('src/flat/', { startAfter: 'src/flat/img_01029.jpg', pageSize: 1 })));
    expect(after).toEqual(['src/flat/img_01036.jpg', 'src/flat/img_01043.jpg']);
  });

  it('S3: partitioned listing equals one listing, and resumes from a position token', async () => {
    await expectSameAsOneListing(s3.store(BUCKET), S3_KEYS);
  });

  it('GCS (the fake JSON API): delimiter listings name common prefixes, startAfter leaves the key itself out', async () => {
    const [page] = await pages(gcsStore.list('src/', { delimiter: '/', pageSize: 1000 }));
    expect(page!.commonPrefixes).toEqual(['src/cams-old/', 'src/cams/', 'src/flat/', 'src/z/']);
    expect(page!.objects.map((o) => o.key)).toEqual(['src/cams.jpg', 'src/flat.jpg', 'src/top.jpg', 'src/zz.jpg']);
    const after = keysOf(await pages(gcsStore.list('src/flat/', { startAfter: 'src/flat/img_01029.jpg', pageSize: 1 })));
    expect(after).toEqual(['src/flat/img_01036.jpg', 'src/flat/img_01043.jpg']);
  });

  it('GCS: partitioned listing equals one listing, and resumes from a position token', async () => {
    await expectSameAsOneListing(gcsStore, KEYS);
  });
});
