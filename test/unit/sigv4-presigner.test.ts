import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeKeyPath, SigV4Presigner, type SigningKeyDerivation } from '../../shared/storage/sigv4-presigner';

const credentials = { accessKeyId: 'AKIDSTATIC', secretAccessKey: 'static-secret' };

function sdkUrl(client: S3Client, Bucket: string, Key: string, expiresIn: number, signingDate?: Date) {
  return getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), { expiresIn, signingDate });
}

describe('fast SigV4 presigner: signing keys', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('derives the signing key once per day, region and credentials, not per URL', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z'), toFake: ['Date'] });
    const derivations: SigningKeyDerivation[] = [];
    const client = new S3Client({ region: 'eu-west-1', credentials });
    const presigner = new SigV4Presigner(client, { onSigningKey: (d) => derivations.push(d) });
    // The probe (learning the bucket's URL shape) signs with the day's key once.
    await presigner.mode('media');
    expect(derivations).toHaveLength(1);

    // 5,000 URLs across many seconds of the same day: the same key every time.
    for (let i = 0; i < 5000; i++) {
      if (i % 500 === 0) vi.setSystemTime(Date.now() + 61_000);
      await presigner.presignGetObject('media', `cams/${i}.jpg`, 86_400);
    }
    expect(derivations).toEqual([{ date: '20261123', region: 'eu-west-1', service: 's3', accessKeyId: 'AKIDSTATIC' }]);

    // Another bucket on the same client and day: still the same key.
    await presigner.presignGetObject('other-bucket', 'a.jpg', 900);
    expect(derivations).toHaveLength(1);

    // The next day: one new derivation, then reused.
    vi.setSystemTime(new Date('2026-11-24T00:00:01Z'));
    for (let i = 0; i < 100; i++) await presigner.presignGetObject('media', `cams/${i}.jpg`, 86_400);
    expect(derivations.map((d) => d.date)).toEqual(['20261123', '20261124']);

    // And the URLs are still the SDK's.
    expect(await presigner.presignGetObject('media', 'cams/x y.jpg', 86_400)).toBe(await sdkUrl(client, 'media', 'cams/x y.jpg', 86_400));
  });

  it('formats the signing time once per second, not per URL, and signs the next second as the SDK does', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00.100Z'), toFake: ['Date'] });
    const client = new S3Client({ region: 'eu-west-1', credentials });
    const presigner = new SigV4Presigner(client);
    await presigner.presignGetObject('media', 'cams/first.jpg', 86_400);
    const formatted = vi.spyOn(Date.prototype, 'toISOString');
    try {
      // 1,000 URLs within the same second (the clock moves by milliseconds): the query parts are reused.
      for (let i = 0; i < 1000; i++) {
        if (i % 100 === 0) vi.setSystemTime(Date.now() + 50);
        await presigner.presignGetObject('media', `cams/${i}.jpg`, 86_400);
      }
      expect(formatted).not.toHaveBeenCalled();
      // The next second: new query parts, the SDK's URL byte for byte.
      vi.setSystemTime(new Date('2026-11-23T10:00:01.000Z'));
      const url = await presigner.presignGetObject('media', 'cams/x y.jpg', 86_400);
      expect(url).toContain('X-Amz-Date=20261123T100001Z');
      expect(url).toBe(await sdkUrl(client, 'media', 'cams/x y.jpg', 86_400));
    } finally {
      formatted.mockRestore();
    }
  });

  it('derives one key per region (one presigner per client) and per signing day used', async () => {
    const derivations: SigningKeyDerivation[] = [];
    const day1 = new Date('2026-11-23T12:00:00Z');
    const day2 = new Date('2026-11-24T12:00:00Z');
    const options = { now: () => day1, onSigningKey: (d: SigningKeyDerivation) => derivations.push(d) };
    const east = new SigV4Presigner(new S3Client({ region: 'us-east-1', credentials }), options);
    const west = new SigV4Presigner(new S3Client({ region: 'us-west-2', credentials }), options);
    for (let i = 0; i < 300; i++) {
      await east.presignGetObject('media', `k${i}`, 900, { signingDate: i % 2 ? day1 : day2 });
      await west.presignGetObject('media', `k${i}`, 900);
    }
    expect(derivations.map((d) => `${d.region}/${d.date}`).sort()).toEqual(['us-east-1/20261123', 'us-east-1/20261124', 'us-west-2/20261123']);
  });

  it('follows the client credential provider, refreshing expiring credentials like getSignedUrl', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z'), toFake: ['Date'] });
    let issued = 0;
    const provider = vi.fn(async () => {
      issued++;
      return { accessKeyId: `ASIA${issued}`, secretAccessKey: `secret-${issued}`, sessionToken: `token/${issued}+=`, expiration: new Date(Date.now() + 15 * 60_000) };
    });
    const derivations: SigningKeyDerivation[] = [];
    const client = new S3Client({ region: 'us-east-1', credentials: provider });
    const presigner = new SigV4Presigner(client, { onSigningKey: (d) => derivations.push(d) });

    const first = await presigner.presignGetObject('media', 'a.jpg', 900);
    expect(first).toContain('X-Amz-Credential=ASIA1%2F');
    expect(first).toContain('X-Amz-Security-Token=token%2F1%2B%3D');
    expect(first).toBe(await sdkUrl(client, 'media', 'a.jpg', 900));
    for (let i = 0; i < 200; i++) await presigner.presignGetObject('media', `k${i}`, 900);
    expect(issued).toBe(1);

    // 11 minutes on, the credentials are within the SDK's 5-minute refresh window.
    vi.setSystemTime(Date.now() + 11 * 60_000);
    const second = await presigner.presignGetObject('media', 'a.jpg', 900);
    expect(issued).toBe(2);
    expect(second).toContain('X-Amz-Credential=ASIA2%2F');
    expect(second).toBe(await sdkUrl(client, 'media', 'a.jpg', 900));
    for (let i = 0; i < 200; i++) await presigner.presignGetObject('media', `k${i}`, 900);
    expect(derivations.map((d) => d.accessKeyId)).toEqual(['ASIA1', 'ASIA2']);
  });
});

describe('fast SigV4 presigner: what it leaves to getSignedUrl', () => {
  const signingDate = new Date('2026-11-23T15:40:12Z');
  const fallbacks: Array<[string, S3ClientConfig, string, RegExp]> = [
    ['FIPS', { region: 'us-east-1', useFipsEndpoint: true, credentials }, 'media', /FIPS/],
    ['dual-stack', { region: 'us-east-1', useDualstackEndpoint: true, credentials }, 'media', /dual-stack/],
    ['transfer acceleration', { region: 'us-east-1', useAccelerateEndpoint: true, credentials }, 'media', /acceleration/],
    ['an access point ARN', { region: 'us-east-1', credentials }, 'arn:aws:s3:us-east-1:123456789012:accesspoint/my-ap', /ARN/],
  ];

  it.each(fallbacks)('%s: falls back, with the SDK URL', async (_name, config, bucket, reason) => {
    const client = new S3Client(config);
    const presigner = new SigV4Presigner(client);
    const mode = await presigner.mode(bucket);
    expect(mode.fast).toBe(false);
    expect(mode.fast === false && mode.reason).toMatch(reason);
    const url = await presigner.presignGetObject(bucket, 'a b/c.jpg', 900, { signingDate });
    expect(url).toBe(await sdkUrl(client, bucket, 'a b/c.jpg', 900, signingDate));
  });

  it('S3 Express directory buckets are left to the SDK (session auth)', async () => {
    const presigner = new SigV4Presigner(new S3Client({ region: 'us-east-1', credentials }));
    expect(await presigner.mode('media--use1-az4--x-s3')).toEqual({ fast: false, reason: 'S3 Express directory bucket' });
  });

  it('a client middleware that signs an extra header makes the probe differ: fallback, still correct', async () => {
    const client = new S3Client({ region: 'us-east-1', credentials });
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-custom-signed'] = 'yes';
        return next(args);
      },
      { step: 'build', name: 'addSignedHeader' },
    );
    const presigner = new SigV4Presigner(client);
    expect((await presigner.mode('media')).fast).toBe(false);
    const url = await presigner.presignGetObject('media', 'k.jpg', 900, { signingDate });
    expect(url).toBe(await sdkUrl(client, 'media', 'k.jpg', 900, signingDate));
  });

  it('lifetimes the fast path does not take go to the SDK, which applies its own rules', async () => {
    const client = new S3Client({ region: 'us-east-1', credentials });
    const presigner = new SigV4Presigner(client);
    const mine = await presigner.presignGetObject('media', 'k', 604_801).catch((err: unknown) => err);
    const sdk = await sdkUrl(client, 'media', 'k', 604_801).catch((err: unknown) => err);
    expect(String(mine)).toMatch(/less than one week/);
    expect(mine).toEqual(sdk);
    expect(await presigner.presignGetObject('media', 'k', 90.5, { signingDate })).toBe(await sdkUrl(client, 'media', 'k', 90.5, signingDate));
  });

  it('keys the SDK cannot encode fail the same way', async () => {
    const client = new S3Client({ region: 'us-east-1', credentials });
    const presigner = new SigV4Presigner(client);
    await expect(presigner.presignGetObject('media', 'bad\uD800key', 900)).rejects.toThrow(URIError);
    await expect(sdkUrl(client, 'media', 'bad\uD800key', 900)).rejects.toThrow(URIError);
  });
});

describe('key path encoding', () => {
  it('is the SDK greedy-label encoding: / kept, RFC 3986 reserved and !\'()* escaped', () => {
    expect(encodeKeyPath('plain/dir/file-1_2.~x.jpg')).toBe('plain/dir/file-1_2.~x.jpg');
    expect(encodeKeyPath("a b+c%d*e'f(g)h!i")).toBe('a%20b%2Bc%25d%2Ae%27f%28g%29h%21i');
    expect(encodeKeyPath('//x//ü/')).toBe('//x//%C3%BC/');
  });
});
