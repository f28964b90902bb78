import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServiceAccount } from '../../sandbox/gcs-keys';
import { startFakeGcs, type FakeGcsServer } from '../../sandbox/gcs-server';
import { verifyGcsV4Signature } from '../../sandbox/gcs-v4-verify';
import { createGcsClient, createGcsSigner } from '../../shared/storage/gcs-client';
import { GcsStore } from '../../shared/storage/gcs-store';
import { privateKeySigner, signGcsUrlV4 } from '../../shared/storage/gcs-v4-signer';

const BUCKET = 'gcs-signed-it';
const PAYS = 'gcs-requester-pays';
const KEYS = [
  'plain.jpg',
  'ünï cödé/photo 1.png',
  'plus+sign/shot+1.webp',
  "odd chars/a~b!c'(d)*e%f&g=h?i#j.jpg",
  'deep/a//b/c.jpg',
  '日本語/写真.jpeg',
];

describe('GCS V4 signed URLs (service-account key)', () => {
  let gcs: FakeGcsServer;
  let store: GcsStore;
  const account = generateServiceAccount('signer-it');
  const stranger = generateServiceAccount('stranger-it');

  beforeAll(async () => {
    gcs = await startFakeGcs({ buckets: [BUCKET] });
    gcs.createBucket(PAYS, { requesterPays: true });
    gcs.trust(account.email, account.publicKey);
    gcs.trust(stranger.email, stranger.publicKey);
    const settings = { signing: { kind: 'key' as const, key: account.key }, apiEndpoint: gcs.url };
    const client = createGcsClient(settings);
    store = new GcsStore(client, BUCKET, { signer: createGcsSigner(settings, client), signedUrlBase: gcs.url });
    for (const key of KEYS) gcs.put(BUCKET, key, `bytes of ${key}`, 'image/jpeg');
    gcs.put(PAYS, 'paid.jpg', 'paid bytes');
  });
  afterAll(() => gcs.close());

  it.each(KEYS)('signs %j so that an independent verifier and the fake GCS both accept it', async (key) => {
    const url = await store.presignGet(key, { expiresInSeconds: 3600 });
    const u = new URL(url);
    expect(u.origin).toBe(gcs.url);
    expect(u.searchParams.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    expect(u.searchParams.get('X-Goog-Expires')).toBe('3600');
    expect(u.searchParams.get('X-Goog-SignedHeaders')).toBe('host');
    expect(u.searchParams.get('X-Goog-Credential')).toMatch(new RegExp(`^${account.email}/\\d{8}/auto/storage/goog4_request$`));
    // Never V2 (GoogleAccessId / Expires / Signature).
    expect([...u.searchParams.keys()].filter((k) => !k.startsWith('X-Goog-'))).toEqual([]);
    expect(verifyGcsV4Signature(url, account.publicKey)).toBe(true);
    expect(verifyGcsV4Signature(url, stranger.publicKey)).toBe(false);

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`bytes of ${key}`);
  });

  it('produces exactly the URL the client library signs (same canonical request, same signature)', async () => {
    // The library refuses expiry dates in the past: sign for a whole second tomorrow.
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);
    const expires = 900;
    const library = new Storage({ credentials: { client_email: account.key.client_email, private_key: account.key.private_key }, projectId: 'p' });
    for (const key of KEYS) {
      const [theirs] = await library.bucket(BUCKET).file(key).getSignedUrl({
        version: 'v4',
        action: 'read',
        accessibleAt: at,
        expires: at.getTime() + expires * 1000,
      });
      const ours = await signGcsUrlV4(privateKeySigner(account.email, account.key.private_key), { bucket: BUCKET, key, expiresInSeconds: expires, now: at });
      const a = new URL(ours);
      const b = new URL(theirs);
      expect(a.origin).toBe('https://storage.googleapis.com');
      expect(a.pathname).toBe(b.pathname);
      expect([...a.searchParams].sort()).toEqual([...b.searchParams].sort());
      expect(verifyGcsV4Signature(ours, account.publicKey)).toBe(true);
    }
  });

  it('rejects tampered URLs: another object, a longer lifetime, another date, a changed signature', async () => {
    const url = await store.presignGet('plain.jpg', { expiresInSeconds: 600 });
    const u = new URL(url);
    const sig = u.searchParams.get('X-Goog-Signature')!;
    const tampered = {
      key: url.replace('/plain.jpg?', `/${encodeURIComponent(KEYS[1]!).replace(/%2F/g, '/')}?`),
      expiry: url.replace('X-Goog-Expires=600', 'X-Goog-Expires=604800'),
      // One second off, still inside the validity window: only the signature can tell.
      date: url.replace(/(X-Goog-Date=\d{8}T\d{4})(\d{2})Z/, (_, head, sec) => `${head}${String((Number(sec) + 1) % 60).padStart(2, '0')}Z`),
      signature: url.replace(sig, (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1)),
      credential: url.replace(encodeURIComponent(account.email), encodeURIComponent(stranger.email)),
    };
    for (const [what, bad] of Object.entries(tampered)) {
      expect(bad, what).not.toBe(url);
      expect(verifyGcsV4Signature(bad, account.publicKey), what).toBe(false);
      const res = await fetch(bad);
      expect(res.status, what).toBe(403);
      expect(await res.text(), what).toMatch(/SignatureDoesNotMatch|AccessDenied/);
    }
    expect((await fetch(url)).status).toBe(200);
  });

  it('rejects a URL signed by an untrusted key, and an expired URL', async () => {
    const rogue = generateServiceAccount('rogue');
    const foreign = await signGcsUrlV4(privateKeySigner(rogue.email, rogue.key.private_key), { bucket: BUCKET, key: 'plain.jpg', expiresInSeconds: 600, urlBase: gcs.url });
    expect((await fetch(foreign)).status).toBe(403);
    // Pretends to be the trusted account, signed with another key.
    const impostor = await signGcsUrlV4(privateKeySigner(account.email, rogue.key.private_key), { bucket: BUCKET, key: 'plain.jpg', expiresInSeconds: 600, urlBase: gcs.url });
    const res = await fetch(impostor);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('SignatureDoesNotMatch');

    const old = await signGcsUrlV4(privateKeySigner(account.email, account.key.private_key), {
      bucket: BUCKET,
      key: 'plain.jpg',
      expiresInSeconds: 60,
      urlBase: gcs.url,
      now: new Date(Date.now() - 120_000),
    });
    expect(verifyGcsV4Signature(old, account.publicKey)).toBe(true); // genuine, just expired
    const expired = await fetch(old);
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('ExpiredToken');
  });

  it('signs lifetimes up to seven days and refuses longer ones', async () => {
    const week = await store.presignGet('plain.jpg', { expiresInSeconds: 604800 });
    expect(new URL(week).searchParams.get('X-Goog-Expires')).toBe('604800');
    expect((await fetch(week)).status).toBe(200);
    await expect(store.presignGet('plain.jpg', { expiresInSeconds: 604801 })).rejects.toThrow(/1 to 604800 seconds/);
  });

  it('signs userProject into URLs of requester-pays buckets', async () => {
    const settings = { signing: { kind: 'key' as const, key: account.key }, apiEndpoint: gcs.url, userProject: 'billing-project' };
    const client = createGcsClient(settings);
    const paying = new GcsStore(client, PAYS, { signer: createGcsSigner(settings, client), signedUrlBase: gcs.url, userProject: 'billing-project' });
    const url = await paying.presignGet('paid.jpg', { expiresInSeconds: 600 });
    expect(new URL(url).searchParams.get('userProject')).toBe('billing-project');
    expect(verifyGcsV4Signature(url, account.publicKey)).toBe(true);
    expect(await (await fetch(url)).text()).toBe('paid bytes');
    // Dropping the parameter breaks the signature; the JSON API calls carry it too.
    expect((await fetch(url.replace('&userProject=billing-project', ''))).status).toBe(403);
    expect(await paying.sizeOf('paid.jpg')).toBe(10);

    const free = new GcsStore(client, PAYS, { signer: createGcsSigner(settings, client), signedUrlBase: gcs.url });
    await expect(free.sizeOf('paid.jpg')).rejects.toThrow(/requester pays/);
    expect((await fetch(await free.presignGet('paid.jpg', { expiresInSeconds: 600 }))).status).toBe(400);
  });
});
