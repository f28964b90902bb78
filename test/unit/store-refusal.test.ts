import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors';
import { httpStatusOf, storeRefusal } from '../../shared/storage/refusal';

/** An AWS SDK v3 service error as the S3 client throws it: named after the S3 code, status in $metadata. */
function s3Error(name: string, status: number, message: string) {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe('storeRefusal: which store answers are bad settings (not worth retrying)', () => {
  it('S3 NoSuchBucket / AccessDenied / a wrong region: the message with code and status', () => {
    expect(storeRefusal(s3Error('NoSuchBucket', 404, 'The specified bucket does not exist'))).toBe('The specified bucket does not exist (NoSuchBucket, HTTP 404)');
    expect(storeRefusal(s3Error('AccessDenied', 403, 'Access Denied'))).toBe('Access Denied (AccessDenied, HTTP 403)');
    expect(storeRefusal(s3Error('PermanentRedirect', 301, 'use the eu-west-1 endpoint'))).toBe('use the eu-west-1 endpoint (PermanentRedirect, HTTP 301)');
  });

  it('a message that already names the code and status is not repeated', () => {
    expect(storeRefusal(s3Error('NoSuchBucket', 404, 'PutObject s3://b/k: NoSuchBucket (404)'))).toBe('PutObject s3://b/k: NoSuchBucket (404)');
  });

  it('GCS errors (numeric code) and the GCS store\'s RemoteError (status), also behind a cause', () => {
    expect(storeRefusal(Object.assign(new Error('The specified bucket does not exist.'), { code: 404 }))).toBe('The specified bucket does not exist. (HTTP 404)');
    expect(storeRefusal(new RemoteError('gs://b/k: upload failed: HTTP 403: forbidden', 403))).toBe('gs://b/k: upload failed: HTTP 403: forbidden');
    expect(httpStatusOf(new Error('wrapped', { cause: new RemoteError('inner', 404) }))).toBe(404);
  });

  it.each([
    ['S3 500', s3Error('InternalError', 500, 'We encountered an internal error')],
    ['S3 503 SlowDown', s3Error('SlowDown', 503, 'Please reduce your request rate')],
    ['throttled 429', new RemoteError('too many', 429, true)],
    ['timed out 408', new RemoteError('timeout', 408, true)],
    ['a network error (no status)', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('%s is not a refusal: retried by the store, then reported as a failure, never as bad input', (_label, err) => {
    expect(storeRefusal(err)).toBeUndefined();
  });
});
