import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';

const DESCRIBED = Symbol('described');

/** Codes the SDK uses when the store's answer names none (an empty or missing error body). */
const NO_CODE = new Set(['UnknownError', 'Unknown', 'Error']);
/** Names the SDK gives a bodiless HEAD answer, by status. */
const HEAD_CODES: Record<number, string> = { 301: 'MovedPermanently', 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound' };

/**
 * Rewrites the message of every error a command ends with (after the SDK's retries) to name the
 * operation, the object, the store's error code and the HTTP status, then the store's own message
 * when it says more: `PutObject s3://b/k: NoSuchBucket (404)`. S3-compatible stores often send an
 * empty `<Message>` (Ceph RGW), which the SDK reports as `UnknownError`, and HEAD answers have no
 * body at all. The error itself is kept (its name, `$metadata`, `$response`).
 */
export const describeS3Errors: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
  try {
    return await next(args);
  } catch (err) {
    if (err instanceof Error && !(err as { [DESCRIBED]?: true })[DESCRIBED]) {
      const operation = String((context as { commandName?: string }).commandName ?? 'S3').replace(/Command$/, '');
      err.message = describeS3Error(operation, args.input as { Bucket?: string; Key?: string; Prefix?: string }, err);
      Object.defineProperty(err, DESCRIBED, { value: true });
    }
    throw err;
  }
};

export function describeS3Error(operation: string, input: { Bucket?: string; Key?: string; Prefix?: string }, err: Error): string {
  const location = input.Bucket === undefined ? '' : ` s3://${input.Bucket}/${input.Key ?? input.Prefix ?? ''}`;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const said = err.message && !NO_CODE.has(err.message) && err.message !== err.name ? err.message : '';
  if (status === undefined) return `${operation}${location}: ${said || err.name}`; // no answer (network)
  const code = NO_CODE.has(err.name) || /^\d+$/.test(err.name) ? (HEAD_CODES[status] ?? `HTTP ${status}`) : err.name;
  return `${operation}${location}: ${code} (${status})${said ? `: ${said}` : ''}`;
}
