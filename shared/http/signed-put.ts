import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { RemoteError } from '../errors';
import { scrubRemoteText } from '../scrub-secrets';
import { errorBodyHead } from './error-body-head';
import { requestFunctionFor } from './request-function';

/** How long the upload server may go without taking a byte or answering. */
export const PUT_TIMEOUT_MS = 120_000;

/**
 * PUTs a stream of known length to a signed URL with the headers the signature covers. The length
 * is sent up front (signed uploads take no chunked bodies), so the body is never buffered. Errors
 * name `label`, never the URL (a credential); a body that fails fails the upload with its own error.
 */
export function putSigned(url: string, body: Readable, bytes: number, headers: Record<string, string>, label: string): Promise<void> {
  const target = new URL(url);
  const send = requestFunctionFor(target);
  if (!send) return Promise.reject(new RemoteError(`upload of ${label} failed: not an http(s) URL`));
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    const req = send(target, { method: 'PUT', headers: { ...headers, 'content-length': String(bytes) } }, (res) => {
      void answer(res, label).then(() => settle(), settle);
    });
    req.setTimeout(PUT_TIMEOUT_MS, () => req.destroy(new RemoteError(`upload of ${label} failed: no progress for ${PUT_TIMEOUT_MS / 1000} s`, undefined, true)));
    req.on('error', (err) => settle(err instanceof RemoteError ? err : new RemoteError(`upload of ${label} failed: ${err.message}`, undefined, true)));
    body.on('error', (err) => {
      settle(err);
      req.destroy();
    });
    body.pipe(req);
  });
}

/** Success once the answer is read; else its status and its bounded head, scrubbed (servers may quote the signed request). */
async function answer(res: IncomingMessage, label: string): Promise<void> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) {
    await finished(res.resume()); // read the (small) answer so the connection can be reused
    return;
  }
  const text = scrubRemoteText(await errorBodyHead(res)).trim();
  const detail = text ? `: ${text}` : '';
  throw new RemoteError(`upload of ${label} failed: HTTP ${status}${detail}`, status, status >= 500 || status === 429 || status === 408);
}
