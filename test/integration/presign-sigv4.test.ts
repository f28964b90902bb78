import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../shared/storage/s3-store';
import { startTestS3, type TestS3 } from '../support/s3';

// The strict s3rver fork recomputes SigV4 for every request, so these URLs are really verified.
describe('presigned URLs against a SigV4-verifying S3 server', () => {
  let s3: TestS3;
  const keys = ['plain/one.jpg', 'nested/dir/ü ber+plus.png', 'spaces/a b c.jpg', 'weird/100%~tilde.webp'];

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: ['signed'], verifySignatures: true });
    for (const key of keys) await s3.store('signed').write(key, `body:${key}`);
  });
  afterAll(() => s3.server.close());

  it('accepts every signed URL', async () => {
    for (const key of keys) {
      const url = await s3.store('signed').presignGet(key, { expiresInSeconds: 900 });
      const res = await fetch(url);
      expect(res.status, key).toBe(200);
      expect(await res.text()).toBe(`body:${key}`);
    }
  });

  it('rejects a tampered signature, key or lifetime', async () => {
    const url = new URL(await s3.store('signed').presignGet('plain/one.jpg', { expiresInSeconds: 900 }));
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
  });

  it('rejects a URL signed with the wrong secret', async () => {
    const forger = new S3Client({
      endpoint: s3.server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.server.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const url = await new S3Store(forger, 'signed').presignGet('plain/one.jpg', { expiresInSeconds: 900 });
    expect((await fetch(url)).status).toBe(403);
  });
});
