import type { StorageOptions } from '@google-cloud/storage';
import { z } from 'zod';
import type { SignBlobOptions } from './gcs-signblob-signer';

/** A service-account key file as `gcloud iam service-accounts keys create` writes it. */
export const ServiceAccountKey = z.looseObject({
  type: z.literal('service_account'),
  client_email: z.email(),
  private_key: z.string().includes('PRIVATE KEY'),
  project_id: z.string().optional(),
  private_key_id: z.string().optional(),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;

/**
 * Keyless signing: the signed URLs are signed by `serviceAccount` through the IAM Credentials
 * signBlob API, called with the access token of `credentials` (e.g. a workload identity
 * federation `external_account` configuration) or of Application Default Credentials.
 */
export const SignBlobConfig = z.object({
  signBlob: z.object({
    serviceAccount: z.email(),
    iamCredentialsUrl: z.url().optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
  }),
  /** Credentials JSON for the caller (any type google-auth-library accepts); absent = ADC. */
  credentials: z.record(z.string(), z.unknown()).optional(),
  projectId: z.string().min(1).optional(),
  /** Project billed for requester-pays buckets. */
  userProject: z.string().min(1).optional(),
});
export type SignBlobConfig = z.infer<typeof SignBlobConfig>;

export type GcsSigning =
  | { kind: 'key'; key: ServiceAccountKey }
  | {
      kind: 'sign-blob';
      serviceAccount: string;
      iamCredentialsUrl?: string;
      concurrency?: number;
      /** A fixed OAuth access token for signBlob calls instead of the client's credentials. */
      accessToken?: string;
      retry?: SignBlobOptions['retry'];
    };

export interface GcsSettings {
  signing: GcsSigning;
  /** Credentials of the JSON API calls (list, read, write); the key itself when signing with a key, else ADC. */
  credentials?: Record<string, unknown>;
  /** JSON API endpoint (and origin of the signed URLs). @default https://storage.googleapis.com */
  apiEndpoint?: string;
  projectId?: string;
  /** Project billed for requester-pays buckets (`userProject` on every call and signed URL). */
  userProject?: string;
  /** Retries of the JSON API calls (the library's own; lower in tests). */
  retryOptions?: StorageOptions['retryOptions'];
  /** Chunk size of resumable uploads (multiple of 256 KiB). @default 8 MiB */
  uploadChunkBytes?: number;
  /** Observes signBlob retries (e.g. to log them). */
  onSignRetry?: SignBlobOptions['onRetry'];
}

/**
 * The GCS credentials secret of a deployment (or a key file): a service-account key JSON, or a
 * signBlob configuration `{"signBlob":{"serviceAccount":…},"credentials":{…}}`. Errors never
 * echo the value.
 */
export function parseGcsCredentials(text: string, where: string): Pick<GcsSettings, 'signing' | 'credentials' | 'projectId' | 'userProject'> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${where}: not JSON (expected a service-account key or a signBlob configuration)`);
  }
  const key = ServiceAccountKey.safeParse(json);
  if (key.success) return { signing: { kind: 'key', key: key.data }, projectId: key.data.project_id };
  const config = SignBlobConfig.safeParse(json);
  if (config.success) {
    const c = config.data;
    return {
      signing: {
        kind: 'sign-blob',
        serviceAccount: c.signBlob.serviceAccount,
        iamCredentialsUrl: c.signBlob.iamCredentialsUrl,
        concurrency: c.signBlob.concurrency,
      },
      credentials: c.credentials,
      projectId: c.projectId,
      userProject: c.userProject,
    };
  }
  const type = (json as { type?: unknown } | null)?.type;
  const detail =
    typeof type === 'string' && type !== 'service_account'
      ? ` ("${type}" credentials cannot sign URLs: add {"signBlob":{"serviceAccount":"…"}} and put them under "credentials")`
      : '';
  throw new Error(`${where}: expected a service-account key (type service_account, client_email, private_key) or a signBlob configuration${detail}`);
}
