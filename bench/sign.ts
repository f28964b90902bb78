import { createHash, createHmac, createPrivateKey, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SigV4Presigner } from '../shared/storage/sigv4-presigner';
import { benchKey, reportResult } from './lib';

/**
 * URL signing on one core (one process, one thread, calls awaited one after the other).
 * Usage: sign.ts <rate|promise-all> <sdk|fast|raw> <count>   or   sign.ts gcs v4 <libraryCount> <rawCount>
 * The S3 client is the deployed shape: AWS endpoint, virtual-hosted, session credentials (as in
 * Lambda). Nothing here touches the network: presigning is offline, credentials are static.
 */
const [scenario = 'rate', impl = 'fast', countArg = '1000', rawCountArg = '1000'] = process.argv.slice(2);

const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD' + 'x'.repeat(600);
const client = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: SESSION_TOKEN },
});
const fast = new SigV4Presigner(client);
const BUCKET = 'media-bucket';
const LIFETIME = 86_400;

/** Realistic keys: camera folders, with a share of unicode and spaces. */
const keyOf = (i: number) => (i % 10 === 0 ? `cams/caméra ${i % 7}/ü+${i}.jpg` : benchKey('cams/', i));

const sdkSign = (key: string) => getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: LIFETIME });
const fastSign = (key: string) => fast.presignGetObject(BUCKET, key, LIFETIME);

/**
 * The cryptographic floor: one SHA-256 of a same-sized canonical request (same session token) and
 * one HMAC per URL, signing key precomputed, no escaping and no URL assembly.
 */
const rawKey = createHmac('sha256', 'secret').update('20261123').digest();
const rawQuery = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T154012Z&X-Amz-Expires=86400&X-Amz-Security-Token=${encodeURIComponent(SESSION_TOKEN)}&X-Amz-SignedHeaders=host&x-amz-checksum-mode=ENABLED&x-id=GetObject`;
const rawSign = async (key: string) => {
  const canonical = `GET\n/${key}\n${rawQuery}\nhost:${BUCKET}.s3.us-east-1.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD`;
  const hash = createHash('sha256').update(canonical).digest('hex');
  return createHmac('sha256', rawKey).update(`AWS4-HMAC-SHA256\n20261123T154012Z\n20261123/us-east-1/s3/aws4_request\n${hash}`).digest('hex');
};

const signers: Record<string, (key: string) => Promise<string>> = { sdk: sdkSign, fast: fastSign, raw: rawSign };

async function rate(sign: (key: string) => Promise<string>, count: number) {
  for (let i = 0; i < Math.min(2000, count); i++) await sign(keyOf(i)); // warm-up (JIT, probe)
  const started = performance.now();
  let length = 0;
  for (let i = 0; i < count; i++) length += (await sign(keyOf(i))).length;
  const seconds = (performance.now() - started) / 1000;
  return { count, seconds, perSecond: count / seconds, averageLength: length / count };
}

if (scenario === 'rate') {
  reportResult({ scenario, impl, ...(await rate(signers[impl]!, Number(countArg))) });
} else if (scenario === 'promise-all') {
  // What the issue measured: every URL of a references file requested at once.
  const count = Number(countArg);
  const started = performance.now();
  const urls = await Promise.all(Array.from({ length: count }, (_, i) => signers[impl]!(keyOf(i))));
  reportResult({ scenario, impl, count: urls.length, seconds: (performance.now() - started) / 1000 });
} else if (scenario === 'gcs') {
  // GCS V4 (GOOG4-RSA-SHA256) offline with a locally generated key: the client library versus one
  // RSA signature per URL. For information: the RSA signature dominates both.
  const { Storage } = await import('@google-cloud/storage');
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const storage = new Storage({ projectId: 'bench', credentials: { client_email: 'bench@bench.iam.gserviceaccount.com', private_key: privateKey } });
  const bucket = storage.bucket('media-bucket');
  const expires = Date.now() + LIFETIME * 1000;
  const library = await rate(async (key) => (await bucket.file(key).getSignedUrl({ version: 'v4', action: 'read', expires }))[0], Number(countArg));
  const keyObject = createPrivateKey(privateKey);
  const raw = await rate(async (key) => {
    const canonical = `GET\n/media-bucket/${key}\nX-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=bench%40bench.iam.gserviceaccount.com%2F20261123%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20261123T154012Z&X-Goog-Expires=86400&X-Goog-SignedHeaders=host\nhost:storage.googleapis.com\n\nhost\nUNSIGNED-PAYLOAD`;
    const sts = `GOOG4-RSA-SHA256\n20261123T154012Z\n20261123/auto/storage/goog4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
    return rsaSign('RSA-SHA256', Buffer.from(sts), keyObject).toString('hex');
  }, Number(rawCountArg));
  reportResult({ scenario, library, raw });
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
