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

// S3 bucket naming rules (also satisfied by GCS names without dots-in-domain cases).
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/prefix` or `gs://bucket/prefix`; `field` names the flag in errors. */
export function parseBucketUrl(field: string, url: string): BucketLocation {
  const match = /^(s3|gs):\/\/([^/]+)(?:\/(.*))?$/.exec(url.trim());
  if (!match) throw new InputError(field, 'a bucket URL like s3://bucket/prefix or gs://bucket/prefix', url);
  const [, scheme, bucket, rest = ''] = match;
  if (!BUCKET_NAME.test(bucket!) || bucket!.includes('..')) {
    throw new InputError(field, 'a valid bucket name (3-63 chars: lowercase letters, digits, dots, hyphens)', bucket);
  }
  const trimmed = rest.replace(/^\/+/, '');
  const prefix = trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  return { scheme: scheme as StoreScheme, bucket: bucket!, prefix };
}

export function formatLocation(loc: BucketLocation, key = ''): string {
  return `${loc.scheme}://${loc.bucket}/${key}`;
}
