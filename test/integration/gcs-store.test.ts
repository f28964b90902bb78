import { Readable } from 'node:stream';
import { text, buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateServiceAccount } from '../../sandbox/gcs-keys';
import { startFakeGcs, type FakeGcsServer } from '../../sandbox/gcs-server';
import { RemoteError } from '../../shared/errors';
import { createGcsClient, createGcsSigner } from '../../shared/storage/gcs-client';
import type { GcsSettings } from '../../shared/storage/gcs-options';
import { GcsStore } from '../../shared/storage/gcs-store';
import type { ListPage } from '../../shared/storage/port';
import { DeferredStore, StoreFactory } from '../../shared/storage/store-factory';

const BUCKET = 'gcs-store-it';
const CHUNK = 256 * 1024;

/** The real @google-cloud/storage 7 client against the fake JSON API on loopback. */
describe('GcsStore against a fake GCS JSON API', () => {
  let gcs: FakeGcsServer;
  let store: GcsStore;
  const account = generateServiceAccount('store-it');

  beforeAll(async () => {
    gcs = await startFakeGcs({ buckets: [BUCKET] });
    gcs.trust(account.email, account.publicKey);
    const settings: GcsSettings = {
      signing: { kind: 'key', key: account.key },
      apiEndpoint: gcs.url,
      projectId: 'local-project',
      retryOptions: { maxRetries: 1, maxRetryDelay: 1, totalTimeout: 5 },
    };
    const client = createGcsClient(settings);
    store = new GcsStore(client, BUCKET, { signer: createGcsSigner(settings, client), signedUrlBase: gcs.url, uploadChunkBytes: CHUNK });
    for (let i = 0; i < 23; i++) gcs.put(BUCKET, `cams/${String(i).padStart(4, '0')}.jpg`, Buffer.alloc(100 + i, i));
    for (let i = 0; i < 5; i++) gcs.put(BUCKET, `other/${i}.jpg`, 'x');
  });
  afterAll(() => gcs.close());
  beforeEach(() => {
    gcs.clearFaults();
    gcs.requests.length = 0;
  });

  async function pagesOf(source: GcsStore, prefix: string): Promise<ListPage[]> {
    const out: ListPage[] = [];
    for await (const page of source.list(prefix)) out.push(page);
    return out;
  }

  async function pages(prefix: string, options: { pageSize?: number; startToken?: string } = {}): Promise<ListPage[]> {
    const out: ListPage[] = [];
    for await (const page of store.list(prefix, options)) out.push(page);
    return out;
  }

  it('lists a prefix page by page with maxResults and pageToken (no auto-pagination cap)', async () => {
    const listed = await pages('cams/', { pageSize: 10 });
    expect(listed.map((p) => p.objects.length)).toEqual([10, 10, 3]);
    expect(listed.map((p) => p.nextToken === undefined)).toEqual([false, false, true]);
    const objects = listed.flatMap((p) => p.objects);
    expect(objects.map((o) => o.key)).toEqual(Array.from({ length: 23 }, (_, i) => `cams/${String(i).padStart(4, '0')}.jpg`));
    expect(objects[5]).toMatchObject({ size: 105, etag: String(gcs.get(BUCKET, 'cams/0005.jpg')!.generation) });
    expect(objects[5]!.lastModified).toBeInstanceOf(Date);

    const calls = gcs.requests.filter((r) => r.path === `/storage/v1/b/${BUCKET}/o`);
    expect(calls).toHaveLength(3);
    for (const c of calls) expect(c.query).toMatchObject({ prefix: 'cams/', maxResults: '10' });
    expect(calls[0]!.query.pageToken).toBeUndefined();
    expect(calls[1]!.query.pageToken).toBe(listed[0]!.nextToken);
    expect(calls[2]!.query.pageToken).toBe(listed[1]!.nextToken);
    // Only the fields the pipeline needs are asked for.
    expect(calls[0]!.query.fields).toBe('items(name,size,generation,updated),nextPageToken');
  });

  it('resumes a listing from a checkpointed nextToken', async () => {
    const first = (await pages('cams/', { pageSize: 10 }))[0]!;
    const rest = await pages('cams/', { pageSize: 10, startToken: first.nextToken });
    expect(rest.map((p) => p.objects.length)).toEqual([10, 3]);
    expect(rest[0]!.objects[0]!.key).toBe('cams/0010.jpg');
  });

  it('lists everything in one page by default, and nothing for an unknown prefix', async () => {
    expect((await pages('')).map((p) => p.objects.length)).toEqual([28]);
    expect(await pages('nothing-here/')).toEqual([{ objects: [], nextToken: undefined }]);
  });

  it('fails the iteration when a later page fails (never a silently shorter listing)', async () => {
    gcs.fail({ pathIncludes: '/o', queryHas: 'pageToken', status: 403, count: 1 });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const page of store.list('cams/', { pageSize: 10 })) seen.push(page.objects.length);
      })(),
    ).rejects.toThrow(/scripted fault 403/);
    expect(seen).toEqual([10]);
  });

  it('downloads objects as streams (alt=media, hash-validated by the library)', async () => {
    const data = await buffer(await store.read('cams/0007.jpg'));
    expect(data).toEqual(Buffer.alloc(107, 7));
    const media = gcs.requests.find((r) => r.query.alt === 'media');
    expect(media?.path).toBe(`/storage/v1/b/${BUCKET}/o/cams%2F0007.jpg`);
    await expect(text(await store.read('missing.jpg'))).rejects.toThrow();
    // A download whose bytes do not match the object's CRC32C errors instead of passing bad data on.
    gcs.fail({ pathIncludes: '/o/', status: 200, count: 1, corrupt: true });
    await expect(buffer(await store.read('cams/0007.jpg'))).rejects.toThrow(/did not match/);
  });

  it('deletes an object, and deleting a missing one succeeds', async () => {
    gcs.put(BUCKET, 'gone/probe.txt', 'x');
    await store.delete('gone/probe.txt');
    expect(gcs.get(BUCKET, 'gone/probe.txt')).toBeUndefined();
    await expect(store.delete('gone/probe.txt')).resolves.toBeUndefined();
  });

  it('uploads a small body in one multipart request and checks the stored size', async () => {
    const result = await store.write('small/summary.json', '{"ok":true}\n', { contentType: 'application/json' });
    expect(result).toEqual({ bytes: 12 });
    expect(gcs.get(BUCKET, 'small/summary.json')).toMatchObject({ contentType: 'application/json', data: Buffer.from('{"ok":true}\n') });
    const uploads = gcs.requests.filter((r) => r.path.startsWith('/upload/'));
    expect(uploads.map((r) => r.query.uploadType)).toEqual(['multipart']);
  });

  it('streams an upload of unknown length as a chunked resumable upload (308 until the last chunk)', async () => {
    const payload = Buffer.alloc(5 * CHUNK + 12345);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) % 251;
    // Uneven source chunks: the library re-chunks them into 256 KiB requests.
    const source = Readable.from((function* () {
      for (let at = 0; at < payload.length; at += 100_003) yield payload.subarray(at, at + 100_003);
    })());
    const result = await store.write('big/video.mp4', source, { expectedBytes: payload.length });
    expect(result.bytes).toBe(payload.length);
    expect(gcs.get(BUCKET, 'big/video.mp4')!.data.equals(payload)).toBe(true);
    const puts = gcs.requests.filter((r) => r.method === 'PUT' && r.query.upload_id);
    expect(puts.length).toBe(6);
    expect(puts.slice(0, -1).every((r) => r.status === 308)).toBe(true);
    expect(puts.at(-1)!.status).toBe(200);
    expect(await store.sizeOf('big/video.mp4')).toBe(payload.length);
  });

  it('sends a stream that ends within one chunk (even an empty one) as a single multipart upload', async () => {
    expect(await store.write('small/lines.jsonl', Readable.from([Buffer.from('{"a":1}\n'), Buffer.from('{"b":2}\n')]))).toEqual({ bytes: 16 });
    expect(await store.write('small/empty.jsonl', Readable.from([]), { expectedBytes: 0 })).toEqual({ bytes: 0 });
    expect(gcs.get(BUCKET, 'small/empty.jsonl')!.data.length).toBe(0);
    const uploads = gcs.requests.filter((r) => r.path.startsWith('/upload/'));
    expect(uploads.map((r) => `${r.query.uploadType} ${r.status}`)).toEqual(['multipart 200', 'multipart 200']);
  });

  it('fails a write whose stored size is not the expected one', async () => {
    await expect(store.write('checked/a.json', 'twelve bytes', { expectedBytes: 99 })).rejects.toThrow(
      /gs:\/\/gcs-store-it\/checked\/a.json: stored 12 bytes, sent 12, expected 99/,
    );
  });

  it('fails a write when the upload is refused or the body stream breaks', async () => {
    gcs.fail({ pathIncludes: '/upload/', status: 403, count: 1 });
    const refused = await store.write('refused/a.txt', 'data').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RemoteError);
    expect(refused).toMatchObject({ status: 403, retryable: false });
    expect(gcs.get(BUCKET, 'refused/a.txt')).toBeUndefined();
    // A server error is worth another try (the export retries whole copies).
    gcs.fail({ pathIncludes: '/upload/', status: 503, count: 5 });
    expect(await store.write('unavailable/a.txt', 'data').catch((e: unknown) => e)).toMatchObject({ retryable: true });
    gcs.clearFaults();

    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('source went away'));
      },
    });
    await expect(store.write('broken/a.bin', broken)).rejects.toThrow(/source went away/);
    expect(gcs.get(BUCKET, 'broken/a.bin')).toBeUndefined();
  });

  it('fails a write whose stored content differs from the bytes sent (same size), for good, and leaves nothing', async () => {
    gcs.corruptUploads(1);
    const small = await store.write('corrupt/small.json', '{"twelve":1}').catch((e: unknown) => e);
    expect(small).toBeInstanceOf(RemoteError);
    expect(small).toMatchObject({ retryable: false });
    expect((small as Error).message).toMatch(/^objects\.insert gs:\/\/gcs-store-it\/corrupt\/small\.json: the stored object differs from the bytes sent \(crc32c /);
    expect(gcs.get(BUCKET, 'corrupt/small.json')).toBeUndefined();

    gcs.corruptUploads(1);
    const payload = Buffer.alloc(3 * CHUNK + 5, 9);
    const big = await store.write('corrupt/big.bin', Readable.from([payload])).catch((e: unknown) => e);
    expect(big).toMatchObject({ retryable: false, message: expect.stringMatching(/^objects\.insert gs:\/\/gcs-store-it\/corrupt\/big\.bin: the stored object differs/) });
    expect(gcs.get(BUCKET, 'corrupt/big.bin')).toBeUndefined();
    // The check reads the upload's own answer: no request beyond the upload itself.
    gcs.requests.length = 0;
    await store.write('corrupt/fine.json', '{}');
    expect(gcs.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /upload/storage/v1/b/${BUCKET}/o`]);
  });

  it('names the operation, the object, the reason and the status of GCS errors', async () => {
    const settings: GcsSettings = { signing: { kind: 'key', key: account.key }, apiEndpoint: gcs.url, projectId: 'p', retryOptions: { maxRetries: 0 } };
    const client = createGcsClient(settings);
    const missing = new GcsStore(client, 'no-such-bucket', { signer: createGcsSigner(settings, client), signedUrlBase: gcs.url });
    await expect(missing.write('out/a.txt', 'data')).rejects.toThrow(/^objects\.insert gs:\/\/no-such-bucket\/out\/a\.txt: notFound \(404\): The specified bucket does not exist/);
    await expect(pagesOf(missing, 'cams/')).rejects.toThrow(/^objects\.list gs:\/\/no-such-bucket\/cams\/: notFound \(404\): The specified bucket does not exist/);
    gcs.fail({ method: 'DELETE', status: 403, count: 1 });
    await expect(store.delete('cams/0001.jpg')).rejects.toThrow(/^objects\.delete gs:\/\/gcs-store-it\/cams\/0001\.jpg: backendError \(403\): scripted fault 403/);
    await expect(text(await missing.read('cams/0001.jpg'))).rejects.toThrow(/^objects\.get gs:\/\/no-such-bucket\/cams\/0001\.jpg: .*\(404\)/);
  });

  it('answers sizeOf for present and missing objects, and has no credential expiry', async () => {
    expect(await store.sizeOf('cams/0000.jpg')).toBe(100);
    expect(await store.sizeOf('nope/none.jpg')).toBeUndefined();
    expect(await store.credentialsExpiry()).toBeUndefined();
  });

  it('is what the StoreFactory builds for gs:// locations (settings resolved once, on first use)', async () => {
    let resolved = 0;
    const factory = new StoreFactory({
      s3: {},
      gcs: async () => {
        resolved++;
        return { signing: { kind: 'key', key: account.key }, apiEndpoint: gcs.url };
      },
    });
    const a = factory.storeFor({ scheme: 'gs', bucket: BUCKET, prefix: 'cams/' });
    const b = factory.storeFor({ scheme: 'gs', bucket: BUCKET, prefix: '' });
    expect(a).toBeInstanceOf(DeferredStore);
    expect(a.bucket).toBe(BUCKET);
    expect(resolved).toBe(0);
    expect(await a.sizeOf('cams/0001.jpg')).toBe(101);
    expect(await b.sizeOf('cams/0002.jpg')).toBe(102);
    const url = await a.presignGet('cams/0001.jpg', { expiresInSeconds: 300 });
    expect(url.startsWith(`${gcs.url}/${BUCKET}/cams/0001.jpg?`)).toBe(true);
    expect((await fetch(url)).status).toBe(200);
    expect(resolved).toBe(1);
    expect(() => new StoreFactory({ s3: {} }).storeFor({ scheme: 'gs', bucket: BUCKET, prefix: '' })).toThrow(/no GCS credentials/);
  });
});
