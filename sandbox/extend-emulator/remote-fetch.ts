/** One bounded HTTP GET of an input file: status check, size cap, hashing, and the first bytes for analysis. */
import { createHash } from 'node:crypto';
import { ClosedError } from '../emulator-kit/task-scope';

export type Download =
  | { ok: true; size: number; sha256: string; mimeType: string; head: Buffer }
  | { ok: false; message: string };

export interface DownloadLimits {
  /** Aborts when the emulator closes; the download then throws ClosedError. */
  closeSignal: AbortSignal;
  timeoutMs: number;
  maxBytes: number;
  /** How many leading bytes to keep for page/line counting. */
  headBytes: number;
}

export async function download(url: string, limits: DownloadLimits): Promise<Download> {
  const signal = AbortSignal.any([limits.closeSignal, AbortSignal.timeout(limits.timeoutMs)]);
  try {
    // Presigned URLs answer directly; a redirect is reported like any other non-2xx status.
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal });
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => {});
      return { ok: false, message: `Failed to download the file: HTTP ${res.status}` };
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) {
      await res.body?.cancel().catch(() => {});
      return { ok: false, message: `The file is larger than the limit of ${limits.maxBytes} bytes` };
    }
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let kept = 0;
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        const bytes = Buffer.from(chunk);
        size += bytes.length;
        if (size > limits.maxBytes) return { ok: false, message: `The file is larger than the limit of ${limits.maxBytes} bytes` };
        hash.update(bytes);
        if (kept < limits.headBytes) {
          const part = bytes.subarray(0, limits.headBytes - kept);
          head.push(part);
          kept += part.length;
        }
      }
    }
    return {
      ok: true,
      size,
      sha256: hash.digest('hex'),
      mimeType: res.headers.get('content-type') ?? 'application/octet-stream',
      head: Buffer.concat(head),
    };
  } catch (err) {
    if (limits.closeSignal.aborted) throw new ClosedError();
    return { ok: false, message: describeNetworkError(err, limits.timeoutMs) };
  }
}

// Only the error code or name: fetch errors may embed the URL, whose query string carries a signature.
function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `Failed to download the file: no complete response within ${timeoutMs} ms`;
  }
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `Failed to download the file: ${cause.code}`;
  return 'Failed to download the file: network error';
}
