import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { RemoteError } from '../errors';
import { requestFunctionFor } from '../http/request-function';

export interface Download {
  body: Readable;
  /** Content-Length when the server sent one. */
  length?: number;
}

/** How long the server may take to answer, and how long a download may get no data while its reader waits for it. */
export const DOWNLOAD_TIMEOUT_MS = 60_000;

/**
 * Opens a signed download URL as a stream. Errors name the file, never the URL (a credential).
 *
 * Node's own HTTP client, not undici: a reader slower than the network (an archive unpacked into
 * many small objects) leaves undici's parser paused, and a server that closes the connection
 * after sending everything (`Connection: close`, or its keep-alive timeout) then fails the
 * download with "other side closed" or an assertion; Node's client reads the rest first.
 */
export async function openDownload(url: string, label: string, timeoutMs = DOWNLOAD_TIMEOUT_MS): Promise<Download> {
  const target = new URL(url);
  const send = requestFunctionFor(target);
  if (!send) throw new RemoteError(`download of ${label} failed: not an http(s) URL`);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(target, { method: 'GET' }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(new RemoteError(`download of ${label} failed: no answer within ${timeoutMs / 1000} s`, undefined, true)));
    req.on('error', (err) => reject(err instanceof RemoteError ? err : new RemoteError(`download of ${label} failed: ${err.message}`, undefined, true)));
    req.on('response', () => req.setTimeout(0));
    req.end();
  });
  if (res.statusCode !== 200) {
    res.resume();
    const status = res.statusCode ?? 0;
    throw new RemoteError(`download of ${label} failed: HTTP ${status}`, status, status >= 500 || status === 429 || status === 408);
  }
  stopWhenStalled(res, label, timeoutMs);
  const length = Number(res.headers['content-length']);
  return { body: res, length: Number.isFinite(length) ? length : undefined };
}

/**
 * Fails the download when no byte arrives for `ms` while nothing is left to read: a reader that is
 * slower than the network (data waiting in the body) is not the server's stall.
 */
function stopWhenStalled(body: IncomingMessage, label: string, ms: number) {
  const socket = body.socket;
  let seen = socket.bytesRead;
  const check = () => {
    const arrived = socket.bytesRead !== seen;
    seen = socket.bytesRead;
    if (arrived || body.readableLength > 0) return void (timer = setTimeout(check, ms).unref());
    body.destroy(new RemoteError(`download of ${label} stalled: no data for ${ms / 1000} s`, undefined, true));
  };
  let timer = setTimeout(check, ms).unref();
  body.once('close', () => clearTimeout(timer));
}
