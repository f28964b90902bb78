import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { startS3Proxy } from '../support/s3-proxy';
import { listObjects, startTestS3, type TestS3 } from '../support/s3';

describe('S3 errors name the operation, the object, the code and the status', () => {
  let s3: TestS3;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;
  let viaProxy: (bucket: string) => S3Store;

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: ['present'] });
    await s3.store('present').write('in/a.jpg', 'a');
    proxy = await startS3Proxy(s3.server.endpoint);
    const client = createS3Client({ endpoint: proxy.url, region: 'us-east-1', forcePathStyle: true, credentials: s3.server.credentials });
    viaProxy = (bucket) => new S3Store(client, bucket);
  });
  afterAll(async () => {
    await proxy.close();
    await s3.server.close();
  });
  beforeEach(() => proxy.reset());

  it('a missing bucket (the real server answers NoSuchBucket)', async () => {
    const store = s3.store('no-such-bucket');
    await expect(store.write('out/k.json', '{}')).rejects.toThrow(/^PutObject s3:\/\/no-such-bucket\/out\/k\.json: NoSuchBucket \(404\)/);
    await expect(listObjects(store, 'in/')).rejects.toThrow(/^ListObjectsV2 s3:\/\/no-such-bucket\/in\/: NoSuchBucket \(404\)/);
    await expect(store.read('in/a.jpg')).rejects.toThrow(/^GetObject s3:\/\/no-such-bucket\/in\/a\.jpg: NoSuchBucket \(404\)/);
  });

  it('an error with an empty <Message>, as Ceph RGW sends it, still says what failed', async () => {
    proxy.failWith({ match: (r) => r.method === 'PUT', status: 403, code: 'SignatureDoesNotMatch', message: '', count: 1 });
    const failure = viaProxy('present').write('out/k.json', '{}');
    await expect(failure).rejects.toThrow('PutObject s3://present/out/k.json: SignatureDoesNotMatch (403)');
    await expect(failure).rejects.not.toThrow(/UnknownError/);

    proxy.failWith({ match: (r) => r.query.get('list-type') === '2', status: 404, code: 'NoSuchBucket', message: '', count: 1 });
    await expect(listObjects(viaProxy('present'), 'in/')).rejects.toThrow('ListObjectsV2 s3://present/in/: NoSuchBucket (404)');
  });

  it('keeps a meaningful server message after the code', async () => {
    proxy.failWith({ match: (r) => r.method === 'GET' && !r.query.has('list-type'), status: 403, code: 'AccessDenied', message: 'Access Denied', count: 1 });
    await expect(viaProxy('present').read('in/a.jpg')).rejects.toThrow('GetObject s3://present/in/a.jpg: AccessDenied (403): Access Denied');
  });

  it('a HEAD refused without a body names the status', async () => {
    proxy.failWith({ match: (r) => r.method === 'HEAD', status: 403, code: 'AccessDenied', count: 1 });
    await expect(viaProxy('present').sizeOf('in/a.jpg')).rejects.toThrow(/^HeadObject s3:\/\/present\/in\/a\.jpg: \w+ \(403\)/);
  });
});
