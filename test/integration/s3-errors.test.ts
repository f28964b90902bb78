import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { S3Store } from '../../shared/storage/s3-store';
import type { startS3Proxy } from '../support/s3-proxy';
import { listObjects, startProxiedS3, type ProxiedS3, type TestS3 } from '../support/s3';

describe('S3 errors name the operation, the object, the code and the status', () => {
  let local: ProxiedS3;
  let s3: TestS3;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;
  let viaProxy: (bucket: string) => S3Store;

  beforeAll(async () => {
    local = await startProxiedS3(['present']);
    ({ s3, proxy } = local);
    viaProxy = local.store;
    await s3.store('present').write('in/a.jpg', 'a');
  });
  afterAll(() => local.close());
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
