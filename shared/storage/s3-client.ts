import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientSettings {
  /** Custom endpoint for S3-compatible stores (AWS_ENDPOINT_URL_S3). */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: S3ClientConfig['credentials'];
}

/** Settings from the standard AWS variables; a custom endpoint implies path-style addressing. */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): S3ClientSettings {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const pathStyle = env.BUCKET_BRIDGE_S3_FORCE_PATH_STYLE;
  return {
    endpoint,
    ...awsClientSettings(env),
    forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true',
  };
}

/**
 * Region and credentials from the given environment (not necessarily process.env): static keys win,
 * otherwise the SDK's default chain (profiles, SSO, roles) applies.
 */
export function awsClientSettings(env: NodeJS.ProcessEnv) {
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined }
      : undefined;
  return { region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1', credentials };
}

export function createS3Client(settings: S3ClientSettings): S3Client {
  return new S3Client({
    region: settings.region ?? 'us-east-1',
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined,
    credentials: settings.credentials,
    // S3-compatible stores reject or mangle the newer default CRC checksums; only send them when required.
    ...(settings.endpoint
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  });
}
