import { z } from 'zod';

/** Environment variables the Lambda functions read at cold start (set by the CDK construct). */
export const RuntimeEnv = z.object({
  BRIDGE_CONFIG: z.string().min(2),
  STATE_TABLE: z.string().min(1),
  /** The target's API key (Roboflow, Extend or LlamaCloud, as configured). */
  TARGET_API_KEY_SECRET_ARN: z.string().min(1).optional(),
  /** Extend: the signing secret of the endpoint registered with Extend; LlamaCloud: the one we give each batch. */
  TARGET_SIGNING_SECRET_ARN: z.string().min(1).optional(),
  WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
  /** The GCS credentials secret (service-account key or signBlob configuration); set on functions that read GCS sources. */
  GCS_CREDENTIALS_SECRET_ARN: z.string().min(1).optional(),
  /** Base URL of the webhook Function URL; notifications go to `<WEBHOOK_URL>webhooks/<secret>`. */
  WEBHOOK_URL: z.string().url().optional(),
  SUBMISSIONS_QUEUE_URL: z.string().url().optional(),
  START_JOB_QUEUE_URL: z.string().url().optional(),
  EXPORT_QUEUE_URL: z.string().url().optional(),
  /** Deployed fan-out: one message per partition of a run's source (and the sweep of lost ones). */
  PARTITIONS_QUEUE_URL: z.string().url().optional(),
  /** Test-only endpoints (dynalite, local S3, emulator); never set in a deployment. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  SQS_ENDPOINT: z.string().url().optional(),
  SECRETS_ENDPOINT: z.string().url().optional(),
  /** Test-only GCS JSON API endpoint (the fake GCS server); also the origin of signed URLs. */
  GCS_ENDPOINT: z.string().url().optional(),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

export const RUNTIME_ENV_NAMES = Object.keys(RuntimeEnv.shape) as Array<keyof RuntimeEnv>;
