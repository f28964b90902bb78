import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SigV4Presigner } from '../../shared/storage/sigv4-presigner';

// Differential test: the fast signer against the SDK's getSignedUrl, same client, key, lifetime and
// signing time, compared as strings. Thousands of random keys per configuration.

/** Deterministic PRNG (mulberry32), so a failure names a reproducible key. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOLS = [
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  "-._~ +%*'()!&=?#;:@$,[]{}^`|\\\"<>",
  '//',
  'éüßçñøåÅÉ日本語中文한국어العربيةעברית',
  '\u{1F600}\u{1F4F7}\u{1F30D}e\u0301\u00A0\u200B\u2028\uFEFF\t',
];

/** A random valid S3 key (≤ 1024 UTF-8 bytes): every special class, `//`, leading and trailing `/`, long keys. */
function randomKey(next: () => number): string {
  const long = next() < 0.05;
  const target = long ? 200 + Math.floor(next() * 800) : 1 + Math.floor(next() * 60);
  let key = next() < 0.05 ? '/' : '';
  while (Buffer.byteLength(key) < target) {
    const pool = POOLS[Math.floor(next() * POOLS.length)]!;
    const chars = [...pool];
    key += chars[Math.floor(next() * chars.length)];
  }
  if (next() < 0.1) key += '/';
  while (Buffer.byteLength(key) > 1024) key = [...key].slice(0, -1).join('');
  return key;
}

const staticCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const sessionCredentials = {
  accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  // Real STS tokens carry '/', '+' and '=' (base64); all must be escaped in the query.
  sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/def==',
};

interface Case {
  name: string;
  config: S3ClientConfig;
  bucket: string;
  requestPayer?: 'requester';
  keys: number;
  /** Part of the expected URL, to show which addressing the SDK chose. */
  expect: RegExp;
}

const CASES: Case[] = [
  {
    name: 'virtual-hosted AWS endpoint, static credentials',
    config: { region: 'us-east-1', credentials: staticCredentials },
    bucket: 'media-bucket',
    keys: 1500,
    expect: /^https:\/\/media-bucket\.s3\.us-east-1\.amazonaws\.com\//,
  },
  {
    name: 'virtual-hosted AWS endpoint, session credentials, another region',
    config: { region: 'eu-central-1', credentials: sessionCredentials },
    bucket: 'media-bucket',
    keys: 1500,
    expect: /^https:\/\/media-bucket\.s3\.eu-central-1\.amazonaws\.com\/.*X-Amz-Security-Token=/,
  },
  {
    name: 'path-style custom endpoint (S3-compatible), static credentials, checksums when required',
    config: {
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:4569',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: staticCredentials,
    },
    bucket: 'media',
    keys: 1500,
    expect: /^http:\/\/127\.0\.0\.1:4569\/media\//,
  },
  {
    name: 'path-style custom endpoint with a base path, session credentials',
    config: { region: 'auto', endpoint: 'https://storage.example.com:8443/s3/', forcePathStyle: true, credentials: sessionCredentials },
    bucket: 'media',
    keys: 1000,
    expect: /^https:\/\/storage\.example\.com:8443\/s3\/media\//,
  },
  {
    name: 'AWS endpoint, forcePathStyle, session credentials',
    config: { region: 'ap-southeast-2', forcePathStyle: true, credentials: sessionCredentials },
    bucket: 'media-bucket',
    keys: 500,
    expect: /^https:\/\/s3\.ap-southeast-2\.amazonaws\.com\/media-bucket\//,
  },
  {
    name: 'AWS endpoint, bucket name with dots (the SDK switches to path-style)',
    config: { region: 'us-west-2', credentials: staticCredentials },
    bucket: 'my.dotted.bucket',
    keys: 300,
    expect: /^https:\/\/s3\.us-west-2\.amazonaws\.com\/my\.dotted\.bucket\//,
  },
  {
    name: 'AWS global endpoint (us-east-1, useGlobalEndpoint), requester pays',
    config: { region: 'us-east-1', useGlobalEndpoint: true, credentials: staticCredentials },
    bucket: 'media-bucket',
    requestPayer: 'requester',
    keys: 300,
    expect: /^https:\/\/media-bucket\.s3\.amazonaws\.com\/.*x-amz-request-payer=requester/,
  },
  {
    name: 'AWS China partition',
    config: { region: 'cn-north-1', credentials: staticCredentials },
    bucket: 'media-bucket',
    keys: 200,
    expect: /^https:\/\/media-bucket\.s3\.cn-north-1\.amazonaws\.com\.cn\//,
  },
];

const signingDate = new Date('2026-11-23T15:40:12Z');

describe('fast SigV4 presigner: byte-identical to getSignedUrl', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(CASES)('$name', async (c) => {
    const client = new S3Client(c.config);
    const presigner = new SigV4Presigner(client);
    expect(await presigner.mode(c.bucket, { requestPayer: c.requestPayer })).toEqual({ fast: true });
    const next = rng(c.name.length * 7919);
    const fixedKeys = ["a b+c%20d~e*f'g(h)i!.jpg", 'x//y//', 'trailing/', '/leading', '%2F%25', `${'long/'.repeat(200)}end.png`];
    const keys = [...fixedKeys, ...Array.from({ length: c.keys }, () => randomKey(next))];
    const lifetimes = [60, 900, 86_400, 604_800];
    let compared = 0;
    for (const [i, key] of keys.entries()) {
      const expiresIn = lifetimes[i % lifetimes.length]!;
      const sdk = await getSignedUrl(client, new GetObjectCommand({ Bucket: c.bucket, Key: key, RequestPayer: c.requestPayer }), {
        expiresIn,
        signingDate,
      });
      const fast = await presigner.presignGetObject(c.bucket, key, expiresIn, { signingDate, requestPayer: c.requestPayer });
      if (fast !== sdk) expect({ key, fast }).toEqual({ key, fast: sdk });
      compared++;
    }
    expect(compared).toBe(keys.length);
    const sample = await presigner.presignGetObject(c.bucket, 'probe/ü b.jpg', 900, { signingDate, requestPayer: c.requestPayer });
    expect(sample).toMatch(c.expect);
    expect(sample).toContain('X-Amz-Date=20261123T154012Z');
  });

  it('matches on the default clock too (fake timers on both sides, no signing date passed)', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T23:59:58.750Z'), toFake: ['Date'] });
    const client = new S3Client({ region: 'us-east-1', credentials: sessionCredentials });
    const presigner = new SigV4Presigner(client);
    const next = rng(42);
    for (let i = 0; i < 200; i++) {
      // Crosses a second and a day boundary: the date stamp and the credential scope both change.
      vi.setSystemTime(new Date(Date.parse('2026-11-23T23:59:58.750Z') + i * 25));
      const key = randomKey(next);
      const sdk = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'media-bucket', Key: key }), { expiresIn: 3600 });
      expect(await presigner.presignGetObject('media-bucket', key, 3600)).toBe(sdk);
    }
    expect(await presigner.presignGetObject('media-bucket', 'k', 3600)).toContain('%2F20261124%2Fus-east-1%2Fs3%2Faws4_request');
  });
});
