import { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors';
import { localS3Env } from '../../sandbox/s3-server';
import { s3SettingsFromEnv } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { StoreFactory } from '../../shared/storage/store-factory';
import type { startS3Proxy } from '../support/s3-proxy';
import { startProxiedS3, type ProxiedS3, type TestS3 } from '../support/s3';

const MiB = 1024 * 1024;

/** Bytes that differ from part to part, so a flipped byte anywhere changes every digest. */
function payload(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 131 + (i >> 10)) & 0xff;
  return out;
}

const methods = (requests: { method: string }[]) => requests.map((r) => r.method);

describe('S3Store writes are confirmed by content, not only by length', () => {
  let local: ProxiedS3;
  let s3: TestS3;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;
  let store: S3Store;

  beforeAll(async () => {
    local = await startProxiedS3(['sink']);
    ({ s3, proxy } = local);
    store = local.store('sink');
  });
  afterAll(() => local.close());
  beforeEach(() => proxy.reset());

  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as RemoteError);

  it('fails a single-request write whose stored bytes differ (same length), for good, and removes the object', async () => {
    proxy.corruptUploads(1);
    const err = await failure(store.write('out/one.json', payload(4096)));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ retryable: false });
    expect(err!.message).toMatch(
      /^PutObject s3:\/\/sink\/out\/one\.json: the stored object differs from the bytes sent \(ETag [0-9a-f]{32} expected, [0-9a-f]{32} stored; CRC32 \S+ sent, \S+ read back\); the object was removed$/,
    );
    // The PUT's answer (its ETag) showed the difference: read back at once, no HEAD first.
    expect(methods(proxy.requests)).toEqual(['PUT', 'GET', 'DELETE']);
    expect(await s3.store('sink').sizeOf('out/one.json')).toBeUndefined();
  });

  it('fails a multipart write whose stored bytes differ (same length): its S3 multipart ETag differs, the read-back confirms', async () => {
    const body = payload(8 * MiB + 4096);
    proxy.s3MultipartEtags(true);
    proxy.corruptUploads(1);
    const err = await failure(store.write('out/two-parts.bin', Readable.from([body]), { expectedBytes: body.length }));
    expect(err).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/^PutObject s3:\/\/sink\/out\/two-parts\.bin: the stored object differs from the bytes sent \(ETag [0-9a-f]{32}-2 expected, [0-9a-f]{32}-2 stored; CRC32 /),
    });
    // An intact multipart write passes on the ETag CompleteMultipartUpload answers: no HEAD, nothing read back.
    proxy.requests.length = 0;
    await expect(store.write('out/two-parts.bin', Readable.from([body]), { expectedBytes: body.length })).resolves.toEqual({ bytes: body.length });
    expect(methods(proxy.requests)).toEqual(['POST', 'PUT', 'PUT', 'POST']);
  });

  it('confirms a multipart write by the MD5 of the whole object when the store gives that as its ETag (s3rver)', async () => {
    const body = payload(8 * MiB + 4096);
    proxy.corruptUploads(1);
    const err = await failure(store.write('out/whole-md5.bin', Readable.from([body])));
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/differs from the bytes sent \(ETag [0-9a-f]{32} expected, [0-9a-f]{32} stored; CRC32 \S+ sent, \S+ read back\)/) });
    proxy.requests.length = 0;
    await expect(store.write('out/whole-md5.bin', Readable.from([body]))).resolves.toEqual({ bytes: body.length });
    expect(methods(proxy.requests)).toEqual(['POST', 'PUT', 'PUT', 'POST']);
  });

  it('reads the object back when the ETag is not an MD5 at all (no HEAD: it would answer the same ETag)', async () => {
    proxy.opaqueEtags('other');
    proxy.corruptUploads(1);
    const err = await failure(store.write('out/other-etag.json', payload(700)));
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/differs from the bytes sent \(CRC32 \S+ sent, \S+ read back\)/) });
    proxy.requests.length = 0;
    await expect(store.write('out/other-etag.json', payload(700))).resolves.toEqual({ bytes: 700 });
    expect(methods(proxy.requests)).toEqual(['PUT', 'GET']);
  });

  it('reads a multipart object back when the ETag CompleteMultipartUpload answers is not an MD5', async () => {
    proxy.opaqueEtags('md5-like');
    const body = payload(8 * MiB + 4096);
    await expect(store.write('out/encrypted.bin', Readable.from([body]))).resolves.toEqual({ bytes: body.length });
    expect(methods(proxy.requests)).toEqual(['POST', 'PUT', 'PUT', 'POST', 'GET']);
  });

  it('with read-back on (BUCKET_BRIDGE_S3_READ_BACK), catches a store whose ETags vouch for bytes it did not keep', async () => {
    // The store answers the MD5s of the parts as sent, and keeps other bytes: the ETag cannot tell.
    const factory = new StoreFactory({ s3: s3SettingsFromEnv({ ...localS3Env(s3.server), AWS_ENDPOINT_URL_S3: proxy.url, BUCKET_BRIDGE_S3_READ_BACK: 'true' }) });
    const checked = factory.storeFor({ scheme: 's3', bucket: 'sink', prefix: '' });
    const body = payload(8 * MiB + 4096);
    proxy.s3MultipartEtags(true);
    proxy.corruptUploads(1, { keepEtags: true });
    const err = await failure(checked.write('out/assembled.bin', Readable.from([body])));
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/differs from the bytes sent \(CRC32 \S+ sent, \S+ read back\)/) });
    proxy.requests.length = 0;
    await expect(checked.write('out/assembled.bin', Readable.from([body]))).resolves.toEqual({ bytes: body.length });
    expect(proxy.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
    factory.destroy();
  });

  it('does not fail an intact write whose ETag only looks like an MD5 (encrypted objects): it reads back', async () => {
    proxy.opaqueEtags('md5-like');
    await expect(store.write('out/encrypted.json', payload(500))).resolves.toEqual({ bytes: 500 });
    expect(methods(proxy.requests)).toEqual(['PUT', 'GET']);
  });

  it('against AWS S3 (checksums computed by the client), uploads carry a full-object CRC32 that the upload answer reports back: no HEAD', async () => {
    // The client AWS S3 gets (no custom endpoint: checksums WHEN_SUPPORTED), pointed at loopback.
    const aws = new S3Client({ region: 'us-east-1', endpoint: proxy.url, forcePathStyle: true, credentials: s3.server.credentials });
    expect(await aws.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    const awsStore = new S3Store(aws, 'sink');
    proxy.checksums(true);
    const body = payload(8 * MiB + 4096);
    await expect(awsStore.write('out/aws.bin', Readable.from([body]))).resolves.toEqual({ bytes: body.length });
    const create = proxy.requests.find((r) => r.method === 'POST' && r.query.has('uploads'))!;
    expect(create.headers).toMatchObject({ 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'FULL_OBJECT' });
    const parts = proxy.requests.filter((r) => r.method === 'PUT' && r.query.has('partNumber'));
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(part.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    const complete = proxy.requests.find((r) => r.method === 'POST' && r.query.has('uploadId'))!;
    expect(complete.headers['x-amz-checksum-type']).toBe('FULL_OBJECT');
    // Confirmed by the CRC32 CompleteMultipartUpload answered: no HEAD, nothing read back.
    expect(methods(proxy.requests)).toEqual(['POST', 'PUT', 'PUT', 'POST']);

    // A single PutObject carries the CRC32 of the bytes sent; a flipped byte shows in the answer's.
    proxy.requests.length = 0;
    proxy.corruptUploads(1);
    const err = await failure(awsStore.write('out/aws.json', payload(3000)));
    expect(err).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/^PutObject s3:\/\/sink\/out\/aws\.json: the stored object differs from the bytes sent \(CRC32 \S+ sent, \S+ stored\); the object was removed$/),
    });
    expect(proxy.requests[0]!.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect(methods(proxy.requests)).toEqual(['PUT', 'DELETE']);
    expect(await s3.store('sink').sizeOf('out/aws.json')).toBeUndefined();
    aws.destroy();
  });

  it('against a store that answers uploads without their checksum, asks a HEAD for it (AWS S3 client), and reads nothing back', async () => {
    const aws = new S3Client({ region: 'us-east-1', endpoint: proxy.url, forcePathStyle: true, credentials: s3.server.credentials });
    const awsStore = new S3Store(aws, 'sink');
    proxy.checksums(true, { inAnswers: false });
    await expect(awsStore.write('out/head-checked.json', payload(3000))).resolves.toEqual({ bytes: 3000 });
    expect(methods(proxy.requests)).toEqual(['PUT', 'HEAD']);
    expect(proxy.requests[1]!.headers['x-amz-checksum-mode']).toBe('ENABLED');

    proxy.requests.length = 0;
    proxy.corruptUploads(1);
    const err = await failure(awsStore.write('out/head-checked.json', payload(3000)));
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/differs from the bytes sent \(CRC32 \S+ sent, \S+ stored\); the object was removed$/) });
    expect(methods(proxy.requests)).toEqual(['PUT', 'HEAD', 'DELETE']);
    aws.destroy();
  });

  it('costs no request beyond the PUT when its answer (the ETag) confirms the content, and sends no checksum header', async () => {
    await expect(store.write('out/plain.json', payload(2000))).resolves.toEqual({ bytes: 2000 });
    expect(methods(proxy.requests)).toEqual(['PUT']);
    // S3-compatible stores get no flexible-checksum headers (some reject them).
    for (const r of proxy.requests) expect(Object.keys(r.headers).filter((h) => h.startsWith('x-amz-checksum'))).toEqual([]);
  });
});
