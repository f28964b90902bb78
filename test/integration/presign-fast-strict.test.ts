import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigV4Presigner } from '../../shared/storage/sigv4-presigner';
import { startTestS3, type TestS3 } from '../support/s3';

// The strict s3rver fork recomputes SigV4 for every request: URLs from the fast signer (not
// getSignedUrl) are accepted, and tampered ones are rejected.
describe('fast-signed URLs against a SigV4-verifying S3 server', () => {
  let s3: TestS3;
  let presigner: SigV4Presigner;
  const keys = [
    'plain/one.jpg',
    "marks/a b+c%d~e*f'g(h)i!.jpg",
    'unicode/ü ber/日本語 😀.png',
    'reserved/semi;colon:at@dollar$comma,eq=amp&.webp',
    `long/${'segment-with-some-length/'.repeat(30)}end.jpg`,
  ];

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: ['signed'], verifySignatures: true });
    for (const key of keys) await s3.store('signed').write(key, `body:${key}`);
    presigner = new SigV4Presigner(s3.client);
  });
  afterAll(() => s3.server.close());

  it('signs on the fast path and the server accepts every URL', async () => {
    expect(await presigner.mode('signed')).toEqual({ fast: true });
    for (const key of keys) {
      const url = await presigner.presignGetObject('signed', key, 900);
      const res = await fetch(url);
      expect(res.status, key).toBe(200);
      expect(await res.text()).toBe(`body:${key}`);
    }
  });

  it('S3Store.presignGet goes through the fast signer', async () => {
    const url = await s3.store('signed').presignGet(keys[1]!, { expiresInSeconds: 900 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`body:${keys[1]}`);
  });

  it('rejects tampered signatures, keys, lifetimes and dates', async () => {
    const url = new URL(await presigner.presignGetObject('signed', 'plain/one.jpg', 900));
    expect((await fetch(url)).status).toBe(200);
    const signature = url.searchParams.get('X-Amz-Signature')!;

    const badSignature = new URL(url);
    badSignature.searchParams.set('X-Amz-Signature', signature.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    expect((await fetch(badSignature)).status).toBe(403);

    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace('one.jpg', 'two.jpg');
    expect((await fetch(otherKey)).status).toBe(403);

    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '604800');
    expect((await fetch(longer)).status).toBe(403);

    const earlier = new URL(url);
    const date = earlier.searchParams.get('X-Amz-Date')!;
    earlier.searchParams.set('X-Amz-Date', date.replace(/\d{2}Z$/, (s) => `${String((Number(s.slice(0, 2)) + 1) % 60).padStart(2, '0')}Z`));
    expect((await fetch(earlier)).status).toBe(403);
  });

  it('rejects fast URLs signed with the wrong secret', async () => {
    const forger = new SigV4Presigner(
      new S3Client({
        endpoint: s3.server.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: s3.server.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
      }),
    );
    expect(await forger.mode('signed')).toEqual({ fast: true });
    expect((await fetch(await forger.presignGetObject('signed', 'plain/one.jpg', 900))).status).toBe(403);
  });
});
