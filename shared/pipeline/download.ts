import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { RemoteError } from '../errors';

export interface Download {
  body: Readable;
  /** Content-Length when the server sent one. */
  length?: number;
}

/** Opens a signed download URL as a stream. Errors name the file, never the URL (a credential). */
export async function openDownload(url: string, label: string, dispatcher?: Dispatcher): Promise<Download> {
  const res = await request(url, { method: 'GET', headersTimeout: 60_000, bodyTimeout: 60_000, dispatcher });
  if (res.statusCode !== 200) {
    res.body.resume();
    throw new RemoteError(`download of ${label} failed: HTTP ${res.statusCode}`, res.statusCode, res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408);
  }
  const length = Number(res.headers['content-length']);
  return { body: res.body, length: Number.isFinite(length) ? length : undefined };
}
