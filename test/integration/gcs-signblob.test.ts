import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateServiceAccount } from '../../sandbox/gcs-keys';
import { startFakeGcs, type FakeGcsServer } from '../../sandbox/gcs-server';
import { verifyGcsV4Signature } from '../../sandbox/gcs-v4-verify';
import { startFakeIamCredentials, type FakeIamCredentials } from '../../sandbox/iam-credentials-server';
import { RemoteError } from '../../shared/errors';
import { Semaphore, SignBlobSigner, type SignBlobOptions } from '../../shared/storage/gcs-signblob-signer';
import { signGcsUrlV4 } from '../../shared/storage/gcs-v4-signer';
import { StoreFactory } from '../../shared/storage/store-factory';

const BUCKET = 'gcs-signblob-it';

/** Keyless signing through a loopback fake of the IAM Credentials signBlob API. */
describe('GCS signing through IAM Credentials signBlob', () => {
  let iam: FakeIamCredentials;
  let gcs: FakeGcsServer;
  const account = generateServiceAccount('keyless');
  const keys = Array.from({ length: 40 }, (_, i) => `frames/${String(i).padStart(3, '0')} ü+.jpg`);

  beforeAll(async () => {
    iam = await startFakeIamCredentials();
    iam.addServiceAccount(account.email, account.key.private_key);
    gcs = await startFakeGcs({ buckets: [BUCKET] });
    gcs.trust(account.email, account.publicKey);
    for (const key of keys) gcs.put(BUCKET, key, `frame ${key}`);
  });
  afterAll(async () => {
    await iam.close();
    await gcs.close();
  });
  beforeEach(() => {
    iam.setDelayMs(0);
    iam.clearFaults();
    iam.resetStats();
  });

  const signer = (overrides: Partial<SignBlobOptions> = {}) =>
    new SignBlobSigner({
      serviceAccount: account.email,
      accessToken: async () => iam.token,
      baseUrl: iam.url,
      retry: { baseDelayMs: 5, maxDelayMs: 40 },
      ...overrides,
    });
  const sign = (s: SignBlobSigner, key: string, expiresInSeconds = 3600) =>
    signGcsUrlV4(s, { bucket: BUCKET, key, expiresInSeconds, urlBase: gcs.url });

  it('signs V4 URLs that verify against the service account key and download from the fake GCS', async () => {
    const s = signer();
    const url = await sign(s, keys[3]!);
    expect(verifyGcsV4Signature(url, account.publicKey)).toBe(true);
    expect(new URL(url).searchParams.get('X-Goog-Credential')).toMatch(new RegExp(`^${account.email}/`));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`frame ${keys[3]}`);
    expect(iam.calls).toEqual([expect.objectContaining({ email: account.email, status: 200 })]);
  });

  it('keeps at most `concurrency` signBlob calls in flight however many URLs are asked for at once', async () => {
    iam.setDelayMs(25);
    const s = signer({ concurrency: 4 });
    const urls = await Promise.all(keys.map((k) => sign(s, k)));
    expect(iam.calls.filter((c) => c.status === 200)).toHaveLength(keys.length);
    expect(iam.maxInFlight()).toBeLessThanOrEqual(4);
    expect(iam.maxInFlight()).toBeGreaterThanOrEqual(2); // and it does run them in parallel
    for (const url of urls) expect(verifyGcsV4Signature(url, account.publicKey)).toBe(true);
    const downloads = await Promise.all(urls.slice(0, 5).map((u) => fetch(u).then((r) => r.status)));
    expect(downloads).toEqual([200, 200, 200, 200, 200]);
  });

  it('survives 429 throttling without Retry-After (exponential backoff with jitter), within the concurrency bound', async () => {
    iam.setDelayMs(10);
    iam.fail(429, 6);
    const retries: Array<{ attempt: number; delayMs: number }> = [];
    const s = signer({ concurrency: 3, retry: { baseDelayMs: 8, maxDelayMs: 64 }, onRetry: (r) => retries.push(r) });
    const urls = await Promise.all(keys.slice(0, 12).map((k) => sign(s, k)));
    for (const url of urls) expect(verifyGcsV4Signature(url, account.publicKey)).toBe(true);
    expect(iam.calls.filter((c) => c.status === 429)).toHaveLength(6);
    expect(iam.calls.filter((c) => c.status === 200)).toHaveLength(12);
    expect(retries).toHaveLength(6);
    for (const r of retries) expect(r.delayMs).toBeLessThanOrEqual(Math.min(64, 8 * 2 ** (r.attempt - 1)));
    expect(iam.maxInFlight()).toBeLessThanOrEqual(3);
  });

  it('honours Retry-After on 429 (here 0 s, where backoff alone would wait up to 10 s)', async () => {
    iam.fail(429, 2, '0');
    const retries: number[] = [];
    const s = signer({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 }, onRetry: (r) => retries.push(r.delayMs) });
    const started = Date.now();
    const url = await sign(s, keys[0]!);
    expect(verifyGcsV4Signature(url, account.publicKey)).toBe(true);
    expect(retries).toEqual([0, 0]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('retries 500 and 503 answers, and gives up after maxAttempts', async () => {
    iam.fail(503, 1);
    iam.fail(500, 1);
    const url = await sign(signer(), keys[1]!);
    expect(verifyGcsV4Signature(url, account.publicKey)).toBe(true);
    expect(iam.calls.map((c) => c.status)).toEqual([503, 500, 200]);

    iam.resetStats();
    iam.fail(429, 10);
    await expect(sign(signer({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }), keys[2]!)).rejects.toThrow(
      /IAM signBlob as .* failed after 3 attempts: HTTP 429/,
    );
    expect(iam.calls).toHaveLength(3);
  });

  it('fails at once, with what to fix, when the caller may not sign as the account or its token is rejected', async () => {
    const other = generateServiceAccount('not-allowed');
    const denied = signer({ serviceAccount: other.email });
    const err = await sign(denied, keys[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).status).toBe(403);
    expect((err as Error).message).toMatch(/HTTP 403: Permission 'iam.serviceAccounts.signBlob' denied.*roles\/iam.serviceAccountTokenCreator/);
    await expect(sign(signer({ accessToken: async () => 'wrong-token' }), keys[0]!)).rejects.toThrow(/HTTP 401/);
    expect(iam.calls.map((c) => c.status)).toEqual([403, 401]);
    // A token that cannot be had is not retried either.
    await expect(sign(signer({ accessToken: async () => Promise.reject(new Error('no ADC')) }), keys[0]!)).rejects.toThrow('no ADC');
  });

  it('signs through the StoreFactory for gs:// with signBlob settings (fixed access token)', async () => {
    const factory = new StoreFactory({
      s3: {},
      gcs: { signing: { kind: 'sign-blob', serviceAccount: account.email, iamCredentialsUrl: iam.url, accessToken: iam.token, concurrency: 2 }, apiEndpoint: gcs.url },
    });
    const store = factory.storeFor({ scheme: 'gs', bucket: BUCKET, prefix: 'frames/' });
    iam.setDelayMs(15);
    const urls = await Promise.all(keys.slice(0, 8).map((k) => store.presignGet(k, { expiresInSeconds: 600 })));
    expect(iam.maxInFlight()).toBeLessThanOrEqual(2);
    for (const [i, url] of urls.entries()) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`frame ${keys[i]}`);
    }
    // Google guarantees signBlob signatures for 12 hours: the run warns about longer URL lifetimes.
    const expiry = (await store.credentialsExpiry())!.getTime() - Date.now();
    expect(expiry).toBeGreaterThan(12 * 3600_000 - 5000);
    expect(expiry).toBeLessThanOrEqual(12 * 3600_000);
  });
});

describe('Semaphore', () => {
  it('never lets more than the limit run, and runs every task', async () => {
    const pool = new Semaphore(3);
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, (i % 4) * 3));
          active--;
          done.push(i);
          if (i === 7) throw new Error('task 7 fails');
        }).catch(() => undefined),
      ),
    );
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(() => new Semaphore(0)).toThrow(/positive/);
  });
});
