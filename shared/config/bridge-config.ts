import { z } from 'zod';
import { MediaKind } from '../media';
import { DEFAULT_URL_LIFETIME_SECONDS, MAX_URL_LIFETIME_SECONDS } from '../pipeline/presign';
import { JobOptions } from '../state/run-record';
import { Slug } from '../targets/roboflow/ids';

const Prefix = z
  .string()
  .regex(/^$|^[^/].*\/$/, 'a key prefix ending in "/" (or "" for the whole bucket)')
  .default('');
const BucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');

export const SourceConfig = z.object({
  /** Stable id used in schedules, queues and state keys. */
  id: z.string().regex(/^[a-z0-9-]{1,32}$/, 'lowercase letters, digits and -, at most 32'),
  bucket: BucketName,
  prefix: Prefix,
  media: MediaKind.default('images'),
  /** EventBridge schedule expression, e.g. "rate(1 hour)" or "cron(0 3 * * ? *)"; none = no scheduled runs. */
  schedule: z.string().optional(),
  /** React to S3 "Object Created" events (through EventBridge) with debounced runs. */
  onObjectCreated: z.boolean().default(false),
  /** The bucket encrypts with this KMS key (SSE-KMS): the functions get kms:Decrypt on it. */
  kmsKeyArn: z.string().optional(),
});
export type SourceConfig = z.infer<typeof SourceConfig>;

/** The deployment's configuration: CDK props / cdk.json context, and BRIDGE_CONFIG for the functions. */
export const BridgeConfig = z.object({
  sources: z.array(SourceConfig).min(1),
  destination: z.object({ bucket: BucketName, prefix: Prefix, kmsKeyArn: z.string().optional() }),
  workspace: Slug,
  workflowId: Slug,
  job: JobOptions.default({}),
  urlLifetimeSeconds: z.number().int().min(60).max(MAX_URL_LIFETIME_SECONDS).default(DEFAULT_URL_LIFETIME_SECONDS),
  manifestPrefix: z.string().regex(/^[^/].*\/$/).default('bucket-bridge/manifests/'),
  keepArchives: z.boolean().default(false),
  debounce: z
    .object({
      /** Flush a batch after this many seconds without new objects (SQS delay: at most 900). */
      quietSeconds: z.number().int().min(1).max(900).default(60),
      /** Flush as soon as this many objects are pending. */
      maxObjects: z.number().int().min(1).max(20_000).default(1000),
    })
    .default({ quietSeconds: 60, maxObjects: 1000 }),
  roboflowApiUrl: z.string().url().optional(),
  /** Objects per listing request (S3 caps it at 1000; some S3-compatible stores lower). */
  listPageSize: z.number().int().min(1).max(1000).default(1000),
  /** Lines per references file; at most Roboflow's per-ingest limit (20,000 images / 5,000 videos). */
  referencesPerFile: z.number().int().min(1).max(20_000).optional(),
});
export type BridgeConfig = z.infer<typeof BridgeConfig>;
export type BridgeConfigInput = z.input<typeof BridgeConfig>;

/** Parses a config, naming the first bad field in the error. */
export function parseBridgeConfig(input: unknown): BridgeConfig {
  const parsed = BridgeConfig.safeParse(input);
  if (parsed.success) {
    const ids = parsed.data.sources.map((s) => s.id);
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) throw new Error(`bucket-bridge config: sources: id "${duplicate}" is used twice`);
    return parsed.data;
  }
  const issue = parsed.error.issues[0]!;
  throw new Error(`bucket-bridge config: ${issue.path.join('.') || '<root>'}: ${issue.message}`);
}
