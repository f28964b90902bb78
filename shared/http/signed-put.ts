import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { RemoteError } from '../errors';

/** How long the upload server may go without taking a byte or answering. */
export const PUT_TIMEOUT_MS = 120_000;
const DETAIL_CHARS = 300;

/**
 * PUTs a stream of known length to a signed URL with the headers the signature covers. The length
 * is sent up front (signed uploads take no chunked bodies), so the body is never buffered. Errors
 * name `label`, never the URL (a credential); a body that fails fails the upload with its own error.
 */
export function putSigned(url: string, body: Readable, bytes: number, headers: Record<string, string>, label: string): Promise<void> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
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

async function answer(res: IncomingMessage, label: string): Promise<void> {
  let text = '';
  for await (const chunk of res) if (text.length < DETAIL_CHARS) text += String(chunk);
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return;
  const detail = text.trim() ? `: ${text.trim().slice(0, DETAIL_CHARS)}` : '';
  throw new RemoteError(`upload of ${label} failed: HTTP ${status}${detail}`, status, status >= 500 || status === 429 || status === 408);
}
