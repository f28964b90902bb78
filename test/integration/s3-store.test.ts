import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listObjects, startTestS3, type TestS3 } from '../support/s3';

describe('S3Store against a local S3 server', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3({ buckets: ['media'] });
  });
  afterAll(() => s3.server.close());

  it('lists across several pages with a small page size', async () => {
    const store = s3.store('media');
    for (let i = 0; i < 12; i++) await store.write(`paged/item-${String(i).padStart(2, '0')}.jpg`, `bytes-${i}`);
    const pages: number[] = [];
    for await (const page of store.list('paged/', { pageSize: 5 })) pages.push(page.objects.length);
    expect(pages).toEqual([5, 5, 2]);
    const all = await listObjects(store, 'paged/', 5);
    expect(all.map((o) => o.key)).toHaveLength(12);
    expect(all[3]).toMatchObject({ key: 'paged/item-03.jpg', size: 7 });
  });

  it('streams a write, verifies the stored size and reads it back', async () => {
    const store = s3.store('media');
    const body = Readable.from([Buffer.alloc(3 * 1024 * 1024, 1), Buffer.alloc(1024, 2)]);
    const { bytes } = await store.write('big/blob.bin', body, { expectedBytes: 3 * 1024 * 1024 + 1024 });
    expect(bytes).toBe(3 * 1024 * 1024 + 1024);
    expect(await store.sizeOf('big/blob.bin')).toBe(bytes);
    expect(await store.sizeOf('big/missing.bin')).toBeUndefined();
    await expect(store.write('big/wrong.bin', 'abc', { expectedBytes: 4 })).rejects.toThrow(/stored 3 bytes.*expected 4/);
  });

  it('deletes an object, and deleting a missing one succeeds', async () => {
    const store = s3.store('media');
    await store.write('gone/probe.txt', 'x');
    await store.delete('gone/probe.txt');
    expect(await store.sizeOf('gone/probe.txt')).toBeUndefined();
    await expect(store.delete('gone/probe.txt')).resolves.toBeUndefined();
  });

  it('presigns GET URLs that download, for keys with unicode, spaces and +', async () => {
    const store = s3.store('media');
    for (const key of ['odd/ü ber+plus.jpg', 'odd/a%20b~c.jpg']) {
      await store.write(key, `content of ${key}`);
      const url = await store.presignGet(key, { expiresInSeconds: 600 });
      expect(url).toContain('X-Amz-Expires=600');
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`content of ${key}`);
    }
  });
});
