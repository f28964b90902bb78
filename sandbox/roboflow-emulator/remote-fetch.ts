/** One bounded HTTP GET of a remote file: status check, size cap, hashing, optional in-memory copy. */
import { createHash } from 'node:crypto';
import { ClosedError } from '../emulator-kit/task-scope';

export type DownloadResult =
  | { ok: true; size: number; sha256: string; data?: Buffer; mimeType: string }
  | { ok: false; problem: 'http-status' | 'network' | 'too-large'; reason: string };

export interface DownloadOptions {
  /** Aborts when the emulator closes; the download then throws ClosedError. */
  closeSignal: AbortSignal;
  timeoutMs: number;
  maxBytes: number;
  /** Keep the bytes in memory when the file is at most this big. */
  keepBytesUpTo: number;
}

export async function download(url: string, opts: DownloadOptions): Promise<DownloadResult> {
  const signal = AbortSignal.any([opts.closeSignal, AbortSignal.timeout(opts.timeoutMs)]);
  try {
    // Redirects are not followed: the target host would escape the trusted-host check.
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal });
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => {});
      return { ok: false, problem: 'http-status', reason: `download failed with HTTP ${res.status}` };
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => {});
      return { ok: false, problem: 'too-large', reason: `file is ${declared}B, limit is ${opts.maxBytes}B` };
    }
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        const bytes = Buffer.from(chunk);
        size += bytes.length;
        if (size > opts.maxBytes) {
          return { ok: false, problem: 'too-large', reason: `file exceeds the limit of ${opts.maxBytes}B` };
        }
        hash.update(bytes);
        if (size <= opts.keepBytesUpTo) kept.push(bytes);
      }
    }
    return {
      ok: true,
      size,
      sha256: hash.digest('hex'),
      data: size <= opts.keepBytesUpTo ? Buffer.concat(kept) : undefined,
      mimeType: res.headers.get('content-type') ?? 'application/octet-stream',
    };
  } catch (err) {
    if (opts.closeSignal.aborted) throw new ClosedError();
    return { ok: false, problem: 'network', reason: describeNetworkError(err) };
  }
}

// Only the error code or name: fetch errors may embed the URL, whose query string carries a signature.
function describeNetworkError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'download timed out';
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `download failed: ${cause.code}`;
  return 'download failed: network error';
}
