import { z } from 'zod';
import { InputError } from './errors';

export const StoreScheme = z.enum(['s3', 'gs']);
export type StoreScheme = z.infer<typeof StoreScheme>;

export const BucketLocation = z.object({
  scheme: StoreScheme,
  bucket: z.string(),
  /** Key prefix, '' for the whole bucket; a non-empty prefix always ends with '/'. */
  prefix: z.string(),
});
export type BucketLocation = z.infer<typeof BucketLocation>;

// S3 bucket naming rules.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// GCS also allows underscores, and up to 222 characters when the name has dots (each part ≤ 63).
const GCS_BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export function isValidBucketName(scheme: StoreScheme, bucket: string): boolean {
  if (bucket.includes('..')) return false;
  if (scheme === 's3') return BUCKET_NAME.test(bucket);
  const parts = bucket.split('.');
  return GCS_BUCKET_NAME.test(bucket) && parts.every((p) => p.length >= 1 && p.length <= 63) && (parts.length > 1 || bucket.length <= 63);
}

/** Parses `s3://bucket/prefix` or `gs://bucket/prefix`; `field` names the flag in errors. */
export function parseBucketUrl(field: string, url: string): BucketLocation {
  const match = /^(s3|gs):\/\/([^/]+)(?:\/(.*))?$/.exec(url.trim());
  if (!match) throw new InputError(field, 'a bucket URL like s3://bucket/prefix or gs://bucket/prefix', url);
  const [, scheme, bucket, rest = ''] = match;
  if (!isValidBucketName(scheme as StoreScheme, bucket!)) {
    const chars = scheme === 'gs' ? 'lowercase letters, digits, dots, hyphens, underscores' : 'lowercase letters, digits, dots, hyphens';
    throw new InputError(field, `a valid bucket name (3-63 chars: ${chars})`, bucket);
  }
  const trimmed = rest.replace(/^\/+/, '');
  const prefix = trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  return { scheme: scheme as StoreScheme, bucket: bucket!, prefix };
}

export function formatLocation(loc: BucketLocation, key = ''): string {
  return `${loc.scheme}://${loc.bucket}/${key}`;
}
