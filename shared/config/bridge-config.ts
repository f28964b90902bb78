import { z } from 'zod';
import { MediaKind } from '../media';
import { ExportLimits } from '../pipeline/export-limits';
import { DEFAULT_INVENTORY_MAX_AGE_DAYS } from '../pipeline/partition/inventory-location';
import { MAX_URL_LIFETIME_SECONDS } from '../pipeline/presign';
import { JobOptions, ResultsLayout } from '../state/run-record';
import { Slug } from '../targets/roboflow/ids';
import { DEFAULT_URL_LIFETIME_SECONDS, DeployedTarget, MEDIA_OF_TARGET } from './target-config';

const Prefix = z
  .string()
  .regex(/^$|^[^/].*\/$/, 'a key prefix ending in "/" (or "" for the whole bucket)')
  .default('');
const BucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');
/** S3 or GCS names; S3 sources are held to the S3 rules below. */
const AnyBucketName = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'a bucket name');
/** An AWS region, or `auto` (Cloudflare R2). */
const Region = z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/, 'a region such as eu-west-1');

/**
 * A KMS key's own ARN (`…:key/<key id>`, multi-Region `mrk-…` ids too): an IAM grant on an alias
 * ARN does not let S3 decrypt with the key behind it.
 */
const KmsKeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; not an alias)');

/**
 * Ephemeral storage of the partition function when a source reads an S3 Inventory: a data file is
 * copied whole to /tmp before it is read, and Lambda's default 512 MiB would refuse any larger than
 * about that. Four times the default costs little: storage above 512 MiB is billed per GB-second
 * at about 0.3% of the price of the function's memory per GB-second, so 1.5 GiB more adds under
 * 1% to its invocations.
 */
export const DEFAULT_INVENTORY_STORAGE_MIB = 2048;

/** Partitions listed at once by a deployed run (and the partition function's maximum concurrency). */
export const MAX_DISCOVERY_PARTITIONS = 64;

export const SourceConfig = z.object({
  /** Stable id used in schedules, queues and state keys. */
  id: z.string().regex(/^[a-z0-9-]{1,32}$/, 'lowercase letters, digits and -, at most 32'),
  /** Where the bucket lives: Amazon S3 (default) or Google Cloud Storage (read by scheduled runs). */
  store: z.enum(['s3', 'gcs']).default('s3'),
  bucket: AnyBucketName,
  prefix: Prefix,
  /** S3: the bucket's region when it differs from the stack's (else asked from S3 at run time). */
  region: Region.optional(),
  /** S3: a requester-pays bucket (the deployment's account pays for the requests). */
  requesterPays: z.boolean().optional(),
  /** What to pick up: images or videos for Roboflow, documents for Extend and LlamaCloud (the default follows the target). */
  media: MediaKind.optional(),
  /** EventBridge schedule expression, e.g. "rate(1 hour)" or "cron(0 3 * * ? *)"; none = no scheduled runs. */
  schedule: z.string().optional(),
  /** React to S3 "Object Created" events (through EventBridge) with debounced runs. */
  onObjectCreated: z.boolean().default(false),
  /** The bucket encrypts with this KMS key (SSE-KMS): the functions get kms:Decrypt on it. */
  kmsKeyArn: z.string().optional(),
  /**
   * S3 sources: scheduled runs read the objects from the newest complete S3 Inventory report of
   * the bucket instead of listing it (each data file a partition); the functions get read access
   * to the inventory's bucket and prefix.
   */
  inventory: z
    .object({
      /** The bucket S3 delivers the inventory to. */
      bucket: BucketName,
      /** The prefix up to the inventory configuration id: `<destination prefix>/<source bucket>/<config id>/`. */
      prefix: z.string().regex(/^[^/].*\/$/, 'the key prefix up to the inventory configuration id, ending in "/" (e.g. "inventory/media/daily/")'),
      /** Reports older than this many days are refused (the run fails naming the report's date). */
      maxAgeDays: z.number().int().min(1).max(3650).default(DEFAULT_INVENTORY_MAX_AGE_DAYS),
      /** The reports are encrypted with this KMS key (SSE-KMS): the functions that read them get kms:Decrypt on it. */
      kmsKeyArn: KmsKeyArn.optional(),
    })
    .optional(),
  /** Partitions this source's scheduled runs are listed in at once (default: `discovery.partitions`). */
  partitions: z.number().int().min(1).max(MAX_DISCOVERY_PARTITIONS).optional(),
});

const SecretArn = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'a Secrets Manager secret ARN');

/** The deployment's configuration: CDK props / cdk.json context, and BRIDGE_CONFIG for the functions. */
const BridgeConfigFields = z.object({
  sources: z.array(SourceConfig).min(1),
  destination: z.object({
    bucket: BucketName,
    prefix: Prefix,
    kmsKeyArn: z.string().optional(),
    region: Region.optional(),
    requesterPays: z.boolean().optional(),
  }),
  /**
   * Secrets Manager secret holding the GCS credentials for `store: "gcs"` sources: a
   * service-account key JSON, or a signBlob configuration (see README "Storage").
   */
  gcsCredentialsSecretArn: SecretArn.optional(),
  /** Project billed for requester-pays GCS buckets. */
  gcsUserProject: z.string().min(1).optional(),
  /** The hosted batch API the runs go to, with its settings. */
  target: DeployedTarget.optional(),
  /** Roboflow settings written before `target` existed: still read when `target` is absent. */
  workspace: Slug.optional(),
  workflowId: Slug.optional(),
  job: JobOptions.optional(),
  roboflowApiUrl: z.string().url().optional(),
  /** Default: a day for Roboflow, an hour for Extend and LlamaCloud. */
  urlLifetimeSeconds: z.number().int().min(60).max(MAX_URL_LIFETIME_SECONDS).optional(),
  manifestPrefix: z.string().regex(/^[^/].*\/$/).default('bucket-bridge/manifests/'),
  keepArchives: z.boolean().default(false),
  /** `mirror`: each object's result is also written under `by-key/<source key>` in the run folder. */
  resultsLayout: ResultsLayout.default('parts'),
  /** Caps per result file at export (archive bytes, members, expansion; copy deadline); unset ones keep their defaults. */
  exportLimits: ExportLimits.partial().optional(),
  debounce: z
    .object({
      /** Flush a batch after this many seconds without new objects (SQS delay: at most 900). */
      quietSeconds: z.number().int().min(1).max(900).default(60),
      /** Flush as soon as this many objects are pending. */
      maxObjects: z.number().int().min(1).max(20_000).default(1000),
    })
    .default({ quietSeconds: 60, maxObjects: 1000 }),
  /** Objects per listing request (S3 caps it at 1000; some S3-compatible stores lower). */
  listPageSize: z.number().int().min(1).max(1000).default(1000),
  /**
   * Scheduled runs list their source in `partitions` parts at once, each by its own invocation of
   * the submit-partition function (its SQS event source's maximum concurrency), joined before the
   * job starts; 1 lists it as one listing handed from invocation to invocation. `sweepSeconds`: how
   * often a run's partitions are checked for lost messages (an SQS delay, at most 900).
   */
  discovery: z
    .object({
      partitions: z.number().int().min(1).max(MAX_DISCOVERY_PARTITIONS).default(1),
      sweepSeconds: z.number().int().min(1).max(900).default(300),
      /**
       * With a source read from an S3 Inventory: the partition function's ephemeral storage (/tmp),
       * which holds the data file being read (copied whole and checked before any row is used).
       */
      inventoryStorageMiB: z.number().int().min(512).max(10_240).default(DEFAULT_INVENTORY_STORAGE_MIB),
    })
    .default({ partitions: 1, sweepSeconds: 300, inventoryStorageMiB: DEFAULT_INVENTORY_STORAGE_MIB }),
  /** Objects per chunk; held to the target's own limit (Roboflow 20,000 images / 5,000 videos, Extend 1,000). */
  referencesPerFile: z.number().int().min(1).max(20_000).optional(),
});

export const BridgeConfig = BridgeConfigFields.superRefine((config, ctx) => {
  const legacy = (['workspace', 'workflowId', 'job', 'roboflowApiUrl'] as const).filter((field) => config[field] !== undefined);
  if (config.target) {
    for (const field of legacy) ctx.addIssue({ code: 'custom', path: [field], message: 'absent when `target` is set (put it in target)' });
  } else {
    for (const field of ['workspace', 'workflowId'] as const) {
      if (!config[field]) ctx.addIssue({ code: 'custom', path: [field], message: `a Roboflow ${field === 'workspace' ? 'workspace slug' : 'workflow id'} (or a \`target\`)` });
    }
  }
  const targetName = config.target?.name ?? 'roboflow';
  config.sources.forEach((source, i) => {
    const at = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: ['sources', i, field], message });
    const media = MEDIA_OF_TARGET[targetName];
    if (source.media && !media.includes(source.media)) at('media', `${media.join(' or ')} (what ${targetName} processes)`);
    if (source.store === 's3') {
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(source.bucket) || source.bucket.includes('..')) at('bucket', 'an S3 bucket name');
      return;
    }
    if (source.bucket.split('.').some((p) => p.length > 63) || (!source.bucket.includes('.') && source.bucket.length > 63)) at('bucket', 'a GCS bucket name');
    // GCS change notifications (Pub/Sub) do not reach this AWS stack: GCS sources run on a schedule.
    if (source.onObjectCreated) at('onObjectCreated', 'false for GCS sources (only scheduled runs read GCS)');
    if (source.kmsKeyArn) at('kmsKeyArn', 'absent for GCS sources (KMS keys are for S3 buckets)');
    if (source.region) at('region', 'absent for GCS sources (regions are for S3 buckets)');
    if (source.requesterPays) at('requesterPays', 'absent for GCS sources (use gcsUserProject)');
    if (source.inventory) at('inventory', 'absent for GCS sources (S3 Inventory reports S3 buckets)');
    if (!config.gcsCredentialsSecretArn) {
      ctx.addIssue({ code: 'custom', path: ['gcsCredentialsSecretArn'], message: `a secret ARN (source "${source.id}" reads GCS)` });
    }
  });
}).transform(({ workspace, workflowId, job, roboflowApiUrl, target, sources, urlLifetimeSeconds, ...rest }) => {
  // One shape from here on: the target always named, the defaults that follow it filled in.
  const deployed: DeployedTarget = target ?? { name: 'roboflow', workspace: workspace!, workflowId: workflowId!, job: job ?? {}, apiUrl: roboflowApiUrl };
  return {
    ...rest,
    target: deployed,
    urlLifetimeSeconds: urlLifetimeSeconds ?? DEFAULT_URL_LIFETIME_SECONDS[deployed.name],
    sources: sources.map((s) => ({ ...s, media: s.media ?? MEDIA_OF_TARGET[deployed.name][0]! })),
  };
});
export type BridgeConfig = z.infer<typeof BridgeConfig>;
export type SourceConfig = BridgeConfig['sources'][number];
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
