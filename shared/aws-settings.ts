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

/**
 * Clients for S3-compatible stores (Cloudflare R2, Backblaze B2, MinIO, …) need:
 * - the store's endpoint (`AWS_ENDPOINT_URL_S3`),
 * - path-style addressing (`/bucket/key`; implied by a custom endpoint): MinIO needs it unless
 *   configured with a domain, and it avoids per-bucket DNS and TLS names everywhere,
 * - the region the store expects in the SigV4 credential scope (R2: `auto`; B2: the region in its
 *   endpoint, e.g. `us-west-004`; MinIO: its configured region, `us-east-1` by default),
 * - checksums only when an operation requires them: SDK releases since early 2025 add CRC32
 *   checksums (`x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm`, aws-chunked bodies) to every
 *   upload and ask for them on every download by default, which several of these stores reject
 *   or do not implement.
 */
