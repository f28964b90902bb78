import { RemoteError } from '../errors';

/** Codes the library gives an upload whose stored CRC32C or MD5 is not the one it computed. */
const MISMATCH_CODES = new Set(['FILE_NO_UPLOAD', 'FILE_NO_UPLOAD_DELETE']);

/** The GCS JSON API operation and the object it was about, e.g. `objects.insert gs://b/k`. */
export interface GcsCall {
  operation: 'objects.list' | 'objects.get' | 'objects.insert' | 'objects.delete';
  bucket: string;
  key: string;
}

/**
 * A GCS failure as the product reports it: `objects.insert gs://b/k: notFound (404): The specified
 * bucket does not exist.` Throttling, server errors and no answer at all may pass (callers retry
 * those); any other status is final.
 */
export function gcsError(call: GcsCall, err: unknown): RemoteError {
  const e = err as { code?: unknown; message?: string; errors?: Array<{ reason?: string }> };
  const status = typeof e.code === 'number' ? e.code : undefined;
  const location = `${call.operation} gs://${call.bucket}/${call.key}`;
  const message = e.message ?? String(err);
  if (status === undefined) return new RemoteError(`${location}: ${message}`, undefined, true);
  const reason = e.errors?.find((x) => x.reason)?.reason ?? `HTTP ${status}`;
  const retryable = status === 408 || status === 429 || status >= 500;
  return Object.assign(new RemoteError(`${location}: ${reason} (${status})${message ? `: ${message}` : ''}`, status, retryable), { cause: err });
}

/** The library found the stored object's hash differs from the one it computed (and deleted it). */
export function isUploadMismatch(err: unknown): boolean {
  return MISMATCH_CODES.has(String((err as { code?: unknown }).code));
}
