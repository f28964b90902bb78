import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { InputError } from '../shared/errors';
import type { LogFormat } from '../shared/log';
import { isValidBucketName, parseBucketUrl, type BucketLocation } from '../shared/location';
import { DEFAULT_INVENTORY_MAX_AGE_DAYS, type InventoryRequest } from '../shared/pipeline/partition/inventory-location';
import { RoboflowMedia } from '../shared/media';
import { checkUrlLifetime } from '../shared/pipeline/presign';
import { DEFAULT_URL_LIFETIME_SECONDS, ExternalId } from '../shared/config/target-config';
import { IngestMode, JobOptions, ResultsLayout, type RunSpec, type TargetSpec } from '../shared/state/run-record';
import { Slug } from '../shared/targets/roboflow/ids';
import { AggregationFormat, MachineType } from '../shared/targets/roboflow/request-schemas';
import type { LocationOptions } from '../shared/storage/store-factory';

export const DEFAULT_MANIFEST_PREFIX = 'bucket-bridge/manifests/';

/** Parses argv with node:util; unknown flags and missing values become InputErrors. */
export function parseFlags<const T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    const message = (err as Error).message;
    const flag = /'(--?[\w-]+)/.exec(message)?.[1] ?? 'arguments';
    throw new InputError(flag, message.replace(/^.*?: /, '').toLowerCase());
  }
}

export function required(flag: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new InputError(flag, 'a value (this flag is required)');
  return value;
}

/** Validates one value with a zod schema, naming the flag in the error. */
export function check<T>(flag: string, schema: z.ZodType<T>, value: unknown, expected: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError(flag, expected, value === undefined ? undefined : String(value));
  return parsed.data;
}

const positiveInt = z.coerce.number().int().positive();

/** Most source partitions listed at once by `--concurrency`. */
export const MAX_CONCURRENCY = 64;

export function optionalInt(flag: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : check(flag, positiveInt, value, 'a positive whole number');
}

/** How to reach the buckets: per-location S3 options and the GCS credentials (flags win over the environment). */
export const STORAGE_FLAGS = {
  'source-region': { type: 'string' },
  'dest-region': { type: 'string' },
  'source-requester-pays': { type: 'boolean', default: false },
  'dest-requester-pays': { type: 'boolean', default: false },
  'gcs-key-file': { type: 'string' },
  'gcs-sign-as': { type: 'string' },
  'gcs-user-project': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export interface CliGcsFlags {
  keyFile?: string;
  signAs?: string;
  userProject?: string;
}

export interface CliStorageOptions {
  source: LocationOptions;
  dest: LocationOptions;
  gcs: CliGcsFlags;
}

const REGION = z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/);

type StorageFlagValues = { [K in keyof typeof STORAGE_FLAGS]?: (typeof STORAGE_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/** Validates the storage flags against the locations they apply to (S3 options only on s3:// URLs). */
export function storageOptions(v: StorageFlagValues, locations: { source?: BucketLocation; dest?: BucketLocation }): CliStorageOptions {
  const location = (side: 'source' | 'dest'): LocationOptions => {
    const loc = locations[side];
    const region = v[`${side}-region`];
    const requesterPays = v[`${side}-requester-pays`] === true;
    if ((region !== undefined || requesterPays) && loc && loc.scheme !== 's3') {
      const flag = region !== undefined ? `--${side}-region` : `--${side}-requester-pays`;
      throw new InputError(flag, `an s3:// --${side} (it applies to S3 buckets only)`, `${loc.scheme}://`);
    }
    return {
      region: region === undefined ? undefined : check(`--${side}-region`, REGION, region, 'an S3 region such as eu-west-1 (or auto for R2)'),
      requesterPays: requesterPays || undefined,
    };
  };
  const nonEmpty = (flag: string, value: string | undefined) => (value === undefined ? undefined : required(flag, value).trim());
  return {
    source: location('source'),
    dest: location('dest'),
    gcs: {
      keyFile: nonEmpty('--gcs-key-file', v['gcs-key-file']),
      signAs: v['gcs-sign-as'] === undefined ? undefined : check('--gcs-sign-as', z.email(), v['gcs-sign-as'].trim(), 'a service account e-mail address'),
      userProject: nonEmpty('--gcs-user-project', v['gcs-user-project']),
    },
  };
}

/** How a command waits for its run: webhooks or polling, and for how long (`run`, `resume`). */
export const WAIT_FLAGS = {
  'webhook-url': { type: 'string' },
  'webhook-listen': { type: 'string', default: '127.0.0.1:8787' },
  'poll-interval': { type: 'string', default: '15' },
  timeout: { type: 'string', default: '86400' },
  'progress-interval': { type: 'string', default: '5' },
} as const satisfies ParseArgsConfig['options'];

/** How a command's stderr reads: `--log-format text|json` (default: text on a terminal, JSON elsewhere). */
export const LOG_FLAGS = { 'log-format': { type: 'string' } } as const satisfies ParseArgsConfig['options'];

export function logFormat(value: string | undefined): LogFormat | undefined {
  return value === undefined ? undefined : check('--log-format', z.enum(['text', 'json']), value, 'text or json');
}

export const RUN_FLAGS = {
  ...STORAGE_FLAGS,
  ...WAIT_FLAGS,
  ...LOG_FLAGS,
  source: { type: 'string' },
  dest: { type: 'string' },
  target: { type: 'string', default: 'roboflow' },
  workspace: { type: 'string' },
  workflow: { type: 'string' },
  'extend-processor': { type: 'string' },
  'extend-processor-kind': { type: 'string', default: 'extract' },
  'extend-processor-version': { type: 'string' },
  'llamacloud-configuration': { type: 'string' },
  'llamacloud-job': { type: 'string', default: 'parse_v2' },
  media: { type: 'string' },
  'url-lifetime': { type: 'string' },
  'manifest-prefix': { type: 'string', default: DEFAULT_MANIFEST_PREFIX },
  'keep-archives': { type: 'boolean', default: false },
  'results-layout': { type: 'string', default: 'parts' },
  'machine-type': { type: 'string' },
  'workers-per-machine': { type: 'string' },
  'processing-timeout': { type: 'string' },
  'max-parallel-tasks': { type: 'string' },
  'max-video-fps': { type: 'string' },
  'aggregation-format': { type: 'string' },
  'allow-http-references': { type: 'boolean', default: false },
  ingest: { type: 'string' },
  'page-size': { type: 'string' },
  'chunk-size': { type: 'string' },
  concurrency: { type: 'string' },
  inventory: { type: 'string' },
  'inventory-max-age-days': { type: 'string' },
  'state-dir': { type: 'string' },
  quiet: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export interface WaitCommandOptions {
  webhook?: { publicUrl: string; host: string; port: number };
  pollIntervalMs: number;
  timeoutMs: number;
  /** How often the run's progress is read (from the state, and from the target while it ingests or processes). */
  progressIntervalMs: number;
}

type WaitFlagValues = { [K in keyof typeof WAIT_FLAGS]?: string };

/** Validates the wait flags: a webhook receiver (public URL and listen address) or polling. */
export function waitOptions(v: WaitFlagValues): WaitCommandOptions {
  let webhook: WaitCommandOptions['webhook'];
  if (v['webhook-url'] !== undefined) {
    const publicUrl = check('--webhook-url', z.string().url().regex(/^https?:\/\//), v['webhook-url'], 'an http(s) URL that reaches --webhook-listen');
    const listen = /^([^:]+):(\d{1,5})$/.exec(v['webhook-listen'] ?? '');
    if (!listen) throw new InputError('--webhook-listen', 'host:port', v['webhook-listen']);
    webhook = { publicUrl: publicUrl.replace(/\/+$/, ''), host: listen[1]!, port: Number(listen[2]) };
  }
  return {
    webhook,
    pollIntervalMs: check('--poll-interval', z.coerce.number().positive().max(3600), v['poll-interval'], 'seconds between 0 and 3600') * 1000,
    timeoutMs: optionalInt('--timeout', v.timeout)! * 1000,
    progressIntervalMs: check('--progress-interval', z.coerce.number().min(0.1).max(3600), v['progress-interval'], 'seconds between 0.1 and 3600') * 1000,
  };
}

/** The one run id a command names (`status`, `resume`). */
export function runIdArgument(positionals: string[]): string {
  const runId = positionals[0];
  if (!runId || positionals.length > 1 || !/^[a-z0-9_-]+$/.test(runId)) throw new InputError('runId', 'one run id, e.g. 20261123-154012-k3x9qa', positionals.join(' '));
  return runId;
}

/** How a run is driven to its end by `run` or `resume` (see cli/drive-run.ts). */
export interface DriveOptions extends WaitCommandOptions {
  /** Submit plain-http references URLs (local emulators, private endpoints); Roboflow's official client refuses them, the API's answer is not documented. */
  allowHttpReferences?: boolean;
  pageSize?: number;
  chunkSize?: number;
  /** Source partitions listed, filtered and signed at once (see shared/pipeline/partition); 1 lists as one listing. */
  concurrency?: number;
  /** The bucket of the S3 Inventory report `run --inventory` reads (a resumed run names it in its spec). */
  inventoryBucket?: string;
  stateDir?: string;
  quiet: boolean;
  logFormat?: LogFormat;
  storage: CliStorageOptions;
}

export interface RunCommandOptions extends DriveOptions {
  spec: RunSpec;
  /** `--inventory`: read the objects from this S3 Inventory report instead of listing the source. */
  inventory?: InventoryRequest;
}

/** Turns `run` flags into a validated spec; throws InputError naming the first bad flag. */
export function runOptions(argv: string[]): RunCommandOptions {
  const { values: v, positionals } = parseFlags(argv, RUN_FLAGS);
  if (positionals.length > 0) throw new InputError('arguments', 'flags only after `run`', positionals.join(' '));
  const source = parseBucketUrl('--source', required('--source', v.source));
  const dest = parseBucketUrl('--dest', required('--dest', v.dest));
  const targetName = check('--target', z.enum(['roboflow', 'extend', 'llamacloud']), v.target, 'roboflow, extend or llamacloud');
  if (targetName !== 'roboflow') return documentRunOptions(v, targetName, source, dest);
  const workspace = check('--workspace', Slug, required('--workspace', v.workspace), 'a Roboflow workspace slug (letters, digits, - and _)');
  const workflowId = check('--workflow', Slug, required('--workflow', v.workflow), 'a Roboflow workflow id (letters, digits, - and _)');
  const media = check('--media', RoboflowMedia, v.media ?? 'images', 'images or videos');
  const job = JobOptions.parse({
    machineType: v['machine-type'] === undefined ? undefined : check('--machine-type', MachineType, v['machine-type'], 'cpu or gpu'),
    workersPerMachine: optionalInt('--workers-per-machine', v['workers-per-machine']),
    processingTimeoutSeconds: optionalInt('--processing-timeout', v['processing-timeout']),
    maxParallelTasks: optionalInt('--max-parallel-tasks', v['max-parallel-tasks']),
    maxVideoFps: v['max-video-fps'] === undefined ? undefined : check('--max-video-fps', z.coerce.number().positive(), v['max-video-fps'], 'a positive number'),
    aggregationFormat:
      v['aggregation-format'] === undefined ? undefined : check('--aggregation-format', AggregationFormat, v['aggregation-format'], 'csv or jsonl'),
  });
  if (job.maxVideoFps !== undefined && media !== 'videos') throw new InputError('--max-video-fps', 'to be used with --media videos');
  const ingest = check('--ingest', IngestMode, v.ingest ?? 'auto', 'references, upload or auto');
  return commonRunOptions(v, { source, dest, media, ingest, target: { name: 'roboflow', workspace, workflowId, job } });
}

type RunFlagValues = ReturnType<typeof parseFlags<typeof RUN_FLAGS>>['values'];

/** Extend and LlamaCloud runs: documents, and the target's processor or configuration. */
function documentRunOptions(v: RunFlagValues, name: string, source: BucketLocation, dest: BucketLocation): RunCommandOptions {
  const media = check('--media', z.literal('documents'), v.media ?? 'documents', 'documents (what Extend and LlamaCloud process)');
  if (v.ingest !== undefined) throw new InputError('--ingest', 'no --ingest with --target ' + name + ' (it applies to Roboflow)', v.ingest);
  const target: TargetSpec =
    name === 'extend'
      ? {
          name: 'extend',
          processor: {
            kind: check('--extend-processor-kind', z.enum(['extract', 'classify', 'split']), v['extend-processor-kind'], 'extract, classify or split'),
            id: check('--extend-processor', ExternalId, required('--extend-processor', v['extend-processor']), 'an Extend processor id such as ex_…'),
            version: v['extend-processor-version'] === undefined ? undefined : check('--extend-processor-version', ExternalId, v['extend-processor-version'], 'latest, draft or a version such as 1.0'),
          },
        }
      : {
          name: 'llamacloud',
          jobType: check('--llamacloud-job', z.enum(['parse_v2', 'extract_v2']), v['llamacloud-job'], 'parse_v2 or extract_v2'),
          configurationId: check('--llamacloud-configuration', ExternalId, required('--llamacloud-configuration', v['llamacloud-configuration']), 'a LlamaCloud configuration id such as cfg-…'),
        };
  return commonRunOptions(v, { source, dest, media, target });
}

/** The flags every target shares: lifetime, manifests, archives, waiting, paging, storage. */
function commonRunOptions(v: RunFlagValues, run: Pick<RunSpec, 'source' | 'dest' | 'media' | 'target' | 'ingest'>): RunCommandOptions {
  const { source, dest } = run;
  const lifetime = v['url-lifetime'] === undefined ? DEFAULT_URL_LIFETIME_SECONDS[run.target.name] : optionalInt('--url-lifetime', v['url-lifetime'])!;
  const manifestPrefix = check('--manifest-prefix', z.string().regex(/^[^/].*\/$/), v['manifest-prefix'], 'a key prefix ending in / (not starting with /)');

  return {
    spec: {
      ...run,
      urlLifetimeSeconds: wrapLifetime(lifetime),
      manifestPrefix,
      keepArchives: v['keep-archives'],
      resultsLayout: check('--results-layout', ResultsLayout, v['results-layout'], 'parts or mirror'),
    },
    ...waitOptions(v),
    allowHttpReferences: v['allow-http-references'] || undefined,
    pageSize: optionalInt('--page-size', v['page-size']),
    chunkSize: optionalInt('--chunk-size', v['chunk-size']),
    concurrency: check('--concurrency', positiveInt.max(MAX_CONCURRENCY), v.concurrency ?? '1', `a whole number from 1 to ${MAX_CONCURRENCY}`),
    ...inventoryOptions(v, source),
    stateDir: v['state-dir'],
    quiet: v.quiet,
    logFormat: logFormat(v['log-format']),
    storage: storageOptions(v, { source, dest }),
  };
}

/** `--inventory s3://bucket/…/manifest.json` or `s3://bucket/<prefix>/<source bucket>/<config id>/` (its newest manifest). */
function inventoryOptions(v: RunFlagValues, source: BucketLocation): Pick<RunCommandOptions, 'inventory' | 'inventoryBucket'> {
  const maxAge = v['inventory-max-age-days'];
  if (v.inventory === undefined) {
    if (maxAge !== undefined) throw new InputError('--inventory-max-age-days', 'to be used with --inventory');
    return {};
  }
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(v.inventory.trim());
  if (!match || !isValidBucketName('s3', match[1]!)) {
    throw new InputError('--inventory', 'an S3 Inventory location: s3://bucket/…/manifest.json, or s3://bucket/<prefix>/<source bucket>/<config id>/ for its newest manifest', v.inventory);
  }
  if (source.scheme !== 's3') throw new InputError('--inventory', 'an s3:// --source (S3 Inventory lists S3 buckets)', `${source.scheme}://`);
  const maxAgeDays = maxAge === undefined ? DEFAULT_INVENTORY_MAX_AGE_DAYS : check('--inventory-max-age-days', positiveInt.max(3650), maxAge, 'a whole number of days from 1 to 3650');
  return { inventory: { bucket: match[1]!, key: match[2]!, maxAgeDays, setting: '--inventory' }, inventoryBucket: match[1]! };
}

function wrapLifetime(seconds: number): number {
  try {
    return checkUrlLifetime(seconds);
  } catch (err) {
    if (err instanceof InputError) throw new InputError('--url-lifetime', err.expected, err.received);
    throw err;
  }
}
