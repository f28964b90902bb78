import { createHash, verify, type KeyObject } from 'node:crypto';

/**
 * An independent check of GCS V4 signed URLs (GOOG4-RSA-SHA256), written from Google's
 * documented algorithm and sharing no code with the signer: rebuilds the canonical request from
 * the URL as a client sends it (path as-is, query re-encoded and sorted, `host` with its port),
 * and verifies the signature against the service account's public key.
 */
export function verifyGcsV4Signature(url: string, publicKey: KeyObject, method = 'GET'): boolean {
  const u = new URL(url);
  const p = u.searchParams;
  const signature = p.get('X-Goog-Signature');
  const signedHeaders = p.get('X-Goog-SignedHeaders');
  const credential = p.get('X-Goog-Credential');
  const date = p.get('X-Goog-Date');
  if (!signature || !signedHeaders || !credential || !date || p.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256') return false;
  if (!/^[0-9a-f]+$/.test(signature)) return false;
  const query = [...p]
    .filter(([k]) => k !== 'X-Goog-Signature')
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .split(';')
    .map((h) => `${h}:${h === 'host' ? u.host : ''}\n`)
    .join('');
  const canonical = [method, u.pathname, query, headers, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = credential.split('/').slice(1).join('/');
  const stringToSign = ['GOOG4-RSA-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  return verify('RSA-SHA256', Buffer.from(stringToSign), publicKey, Buffer.from(signature, 'hex'));
}

export type V4Check =
  | { ok: true; email: string }
  | { ok: false; code: 'MissingSecurityHeader' | 'ExpiredToken' | 'SignatureDoesNotMatch' | 'AccessDenied'; message: string };

/**
 * What a GCS front end checks before serving a signed URL: the parameters, the signer (a known
 * service account), the validity window, and the signature.
 */
export function checkGcsV4Url(url: string, keys: ReadonlyMap<string, KeyObject>, now = new Date()): V4Check {
  const p = new URL(url).searchParams;
  const credential = p.get('X-Goog-Credential');
  const date = p.get('X-Goog-Date');
  const expires = Number(p.get('X-Goog-Expires'));
  if (!credential || !date || !p.get('X-Goog-Signature')) return { ok: false, code: 'MissingSecurityHeader', message: 'not a signed URL' };
  const [email, day, region, service, terminator] = credential.split('/');
  const key = keys.get(email ?? '');
  if (!key || region !== 'auto' || service !== 'storage' || terminator !== 'goog4_request' || !date.startsWith(day ?? '-')) {
    return { ok: false, code: 'AccessDenied', message: 'unknown signer or credential scope' };
  }
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!m || !Number.isInteger(expires) || expires < 1 || expires > 604800) {
    return { ok: false, code: 'AccessDenied', message: 'bad X-Goog-Date or X-Goog-Expires' };
  }
  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (signedAt > now.getTime() + 15 * 60_000) return { ok: false, code: 'AccessDenied', message: 'signed in the future' };
  if (now.getTime() >= signedAt + expires * 1000) return { ok: false, code: 'ExpiredToken', message: 'the signed URL has expired' };
  if (!verifyGcsV4Signature(url, key)) return { ok: false, code: 'SignatureDoesNotMatch', message: 'the signature does not match' };
  return { ok: true, email: email! };
}
