import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { S3Store } from '../../shared/storage/s3-store';
import type { startS3Proxy } from '../support/s3-proxy';
import { listObjects, startProxiedS3, type ProxiedS3, type TestS3 } from '../support/s3';

/** Keys XML cannot carry raw: listings must be URL-encoded by the store and decoded by us. */
const AWKWARD = ['odd/a\r.jpg', 'odd/a\n.jpg', 'odd/a\r\n.jpg', 'odd/plus+ space.jpg', 'odd/pct%2F.jpg', 'odd/ü & <x>.jpg', 'odd/tab\t.jpg'];

describe('S3Store listings of keys with control characters', () => {
  let local: ProxiedS3;
  let s3: TestS3;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;
  let store: S3Store;

  beforeAll(async () => {
    local = await startProxiedS3(['keys']);
    ({ s3, proxy } = local);
    store = local.store('keys');
    for (const key of AWKWARD) await s3.store('keys').write(key, `content of ${JSON.stringify(key)}`);
  });
  afterAll(() => local.close());
  beforeEach(() => proxy.reset());

  // One page: s3rver's own continuation tokens cannot resume after a key with a raw CR or LF.
  it('lists every key exactly as stored (URL-encoded listing, decoded)', async () => {
    const listed = await listObjects(store, 'odd/');
    expect(listed.map((o) => o.key).sort()).toEqual([...AWKWARD].sort());
    const lists = proxy.requests.filter((r) => r.query.get('list-type') === '2');
    expect(lists).toHaveLength(1);
    expect(lists[0]!.query.get('encoding-type')).toBe('url');
  });

  it('signs the carriage-return key for itself: its URL downloads its own bytes', async () => {
    const listed = await listObjects(store, 'odd/a');
    const cr = listed.find((o) => o.key === 'odd/a\r.jpg');
    expect(cr).toBeDefined();
    const res = await fetch(await store.presignGet(cr!.key, { expiresInSeconds: 60 }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`content of ${JSON.stringify('odd/a\r.jpg')}`);
  });

  it('fails a listing whose pages do not advance instead of listing forever', async () => {
    // s3rver's continuation tokens cannot resume after a key with a raw CR or LF: it answers the same page.
    const listing = listObjects(store, 'odd/', 2);
    await expect(listing).rejects.toThrow(/^ListObjectsV2 s3:\/\/keys\/odd\/: the store answered the same page twice/);
    expect(proxy.requests.filter((r) => r.query.get('list-type') === '2').length).toBeLessThan(5);
  }, 10_000);

  it('fails a listing whose continuation tokens alternate between two pages instead of listing forever', async () => {
    // Each page differs from the one before, so only a repeated token shows the listing goes round in circles.
    proxy.scriptListing([
      { keys: ['odd/1', 'odd/2'], next: 'token-A' },
      { token: 'token-A', keys: ['odd/3', 'odd/4'], next: 'token-B' },
      { token: 'token-B', keys: ['odd/5', 'odd/6'], next: 'token-A' },
    ]);
    const listing = listObjects(store, 'odd/', 2);
    await expect(listing).rejects.toThrow(/^ListObjectsV2 s3:\/\/keys\/odd\/: the store handed out a continuation token it had handed out before \(page 3\); the listing goes round in circles$/);
    expect(proxy.requests.filter((r) => r.query.get('list-type') === '2').length).toBeLessThan(5);
  }, 10_000);

  it('keeps raw keys of a store that ignores EncodingType (no EncodingType in the answer)', async () => {
    // Straight to s3rver: it ignores encoding-type, so nothing may be decoded ('+' and '%2F' stay).
    const listed = await listObjects(s3.store('keys'), 'odd/p');
    expect(listed.map((o) => o.key).sort()).toEqual(['odd/pct%2F.jpg', 'odd/plus+ space.jpg']);
  });
});
