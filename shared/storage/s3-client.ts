import type { BuildMiddleware, MetadataBearer } from '@smithy/types';
import { HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { awsClientSettings } from '../aws-settings';
import { describeS3Errors } from './s3-errors';

export interface S3ClientSettings {
  /** Custom endpoint for S3-compatible stores (AWS_ENDPOINT_URL_S3). */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: S3ClientConfig['credentials'];
  /** Confirm every write by reading it back (BUCKET_BRIDGE_S3_READ_BACK=true); see S3StoreOptions. */
  readBack?: boolean;
}

/** Settings from the standard AWS variables; a custom endpoint implies path-style addressing. */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): S3ClientSettings {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const pathStyle = env.BUCKET_BRIDGE_S3_FORCE_PATH_STYLE;
  return {
    endpoint,
    ...awsClientSettings(env),
    forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true',
    readBack: env.BUCKET_BRIDGE_S3_READ_BACK === 'true' || undefined,
  };
}

export function createS3Client(settings: S3ClientSettings): S3Client {
  const pathStyle = settings.forcePathStyle ?? settings.endpoint !== undefined;
  const client = new S3Client({
    region: settings.region ?? 'us-east-1',
    endpoint: settings.endpoint,
    forcePathStyle: pathStyle,
    credentials: settings.credentials,
    // S3-compatible stores reject or mangle the newer default CRC checksums; only send them when required.
    ...(settings.endpoint
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  });
  client.middlewareStack.add(describeS3Errors, { step: 'initialize', name: 'describeS3Errors' });
  if (pathStyle) client.middlewareStack.add(bucketPathWithoutSlash, { step: 'build', name: 'bucketPathWithoutSlash' });
  return client;
}

/**
 * Path-style bucket-level requests (ListObjectsV2, CreateBucket, HeadBucket) go to `/bucket` rather
 * than the SDK's `/bucket/`, as botocore sends them. S3 and MinIO accept both; some S3-compatible
 * servers canonicalise `/bucket/` to `/bucket` when checking SigV4 and reject the SDK's signature.
 * Runs before signing, so what is signed is what is sent.
 */
const bucketPathWithoutSlash: BuildMiddleware<object, MetadataBearer> = (next) => async (args) => {
  const request = args.request as { path?: string };
  if (typeof request.path === 'string' && /^\/[^/]+\/$/.test(request.path)) request.path = request.path.slice(0, -1);
  return next(args);
};

/**
 * The region of an S3 bucket, from HeadBucket: `BucketRegion` when allowed, else the
 * `x-amz-bucket-region` header S3 also sends with its 301 (other region) and 403 (no permission)
 * answers. Undefined when S3 answers without saying (no such bucket, an S3-compatible store);
 * rejects when there is no answer (network).
 */
export async function discoverBucketRegion(client: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const head = await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return head.BucketRegion || undefined;
  } catch (err) {
    const response = (err as { $response?: { headers?: Record<string, string | undefined> } }).$response;
    if (!response) throw err; // no answer at all (network): let the caller try again later
    return response.headers?.['x-amz-bucket-region'] || undefined;
  }
}
