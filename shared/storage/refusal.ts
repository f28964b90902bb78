import { errorMessage } from '../errors';

/**
 * A store's answer that will not change on a retry: the bucket is missing, the credentials are
 * refused or lack a permission, the bucket lives in another region (3xx and 4xx other than 408 and
 * 429). Returns how to say it, or undefined for anything else (throttling, 5xx, the network).
 */
export function storeRefusal(err: unknown): string | undefined {
  const status = httpStatusOf(err);
  if (status === undefined || status < 300 || status >= 500 || status === 408 || status === 429) return undefined;
  const message = errorMessage(err);
  const code = awsErrorCode(err);
  const tags = [code !== undefined && !message.includes(code) ? code : undefined, message.includes(String(status)) ? undefined : `HTTP ${status}`];
  const label = tags.filter((t) => t !== undefined).join(', ');
  return label ? `${message} (${label})` : message;
}

/** The HTTP status an S3 (AWS SDK), GCS or RemoteError failure carries, looking through `cause`. */
export function httpStatusOf(err: unknown, depth = 0): number | undefined {
  if (err === null || typeof err !== 'object' || depth > 3) return undefined;
  const e = err as { $metadata?: { httpStatusCode?: unknown }; status?: unknown; statusCode?: unknown; code?: unknown; cause?: unknown };
  for (const candidate of [e.$metadata?.httpStatusCode, e.status, e.statusCode, e.code]) {
    if (typeof candidate === 'number' && Number.isInteger(candidate)) return candidate;
  }
  return httpStatusOf(e.cause, depth + 1);
}

/** AWS SDK service errors are named after S3's error code (`NoSuchBucket`, `AccessDenied`). */
function awsErrorCode(err: unknown): string | undefined {
  const e = err as { $metadata?: unknown; name?: unknown };
  return e.$metadata !== undefined && typeof e.name === 'string' ? e.name : undefined;
}
