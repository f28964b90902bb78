import { createHash, createPrivateKey, sign as rsaSign } from 'node:crypto';

/**
 * Signs bytes with a service account's RSA key (RSA-SHA256, PKCS#1 v1.5), locally or remotely
 * (IAM Credentials `signBlob`). `email` is the account the URL is signed as.
 */
export interface BlobSigner {
  readonly email: string;
  sign(blob: Buffer): Promise<Buffer>;
}

/** Local signing with the private key of a service-account key file. */
export function privateKeySigner(email: string, privateKeyPem: string): BlobSigner {
  const key = createPrivateKey(privateKeyPem);
  return { email, sign: async (blob) => rsaSign('RSA-SHA256', blob, key) };
}

export const DEFAULT_GCS_URL_BASE = 'https://storage.googleapis.com';
/** V4 signatures cannot outlive seven days. */
export const MAX_GCS_URL_LIFETIME_SECONDS = 7 * 24 * 60 * 60;

export interface V4SignRequest {
  bucket: string;
  key: string;
  expiresInSeconds: number;
  /** Origin of the URL (scheme, host, port); path-style `<origin>/<bucket>/<key>`. */
  urlBase?: string;
  /** Signing time (X-Goog-Date); defaults to now. */
  now?: Date;
  /** Further query parameters covered by the signature (e.g. `userProject` for requester-pays buckets). */
  query?: Record<string, string>;
}

/** RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An object name as a URL path: each `/`-separated segment encoded, the slashes kept. */
export function encodeObjectPath(key: string): string {
  return key.split('/').map(encodeRfc3986).join('/');
}

function timestamps(now: Date) {
  const iso = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20261123T154012Z
  return { datestamp: iso.slice(0, 8), timestamp: iso };
}

/**
 * A GCS V4 signed GET URL (GOOG4-RSA-SHA256), built here rather than by the client library so
 * the same code serves local keys and the remote signBlob API: canonical request → string to
 * sign → RSA signature → hex. Only `host` is signed, so any client can download the URL.
 * https://cloud.google.com/storage/docs/authentication/signatures
 */
export async function signGcsUrlV4(signer: BlobSigner, req: V4SignRequest): Promise<string> {
  const { expiresInSeconds } = req;
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_GCS_URL_LIFETIME_SECONDS) {
    throw new Error(`GCS V4 signed URLs live 1 to ${MAX_GCS_URL_LIFETIME_SECONDS} seconds, not ${expiresInSeconds}`);
  }
  const base = new URL(req.urlBase ?? DEFAULT_GCS_URL_BASE);
  const { datestamp, timestamp } = timestamps(req.now ?? new Date());
  const scope = `${datestamp}/auto/storage/goog4_request`;
  const path = `/${req.bucket}/${encodeObjectPath(req.key)}`;
  const params: Record<string, string> = {
    'X-Goog-Algorithm': 'GOOG4-RSA-SHA256',
    'X-Goog-Credential': `${signer.email}/${scope}`,
    'X-Goog-Date': timestamp,
    'X-Goog-Expires': String(expiresInSeconds),
    'X-Goog-SignedHeaders': 'host',
    ...req.query,
  };
  const query = Object.entries(params)
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  // `base.host` keeps a non-default port, as the Host header a client sends does.
  const canonicalRequest = ['GET', path, query, `host:${base.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = ['GOOG4-RSA-SHA256', timestamp, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const signature = await signer.sign(Buffer.from(stringToSign, 'utf8'));
  return `${base.origin}${path}?${query}&X-Goog-Signature=${signature.toString('hex')}`;
}
