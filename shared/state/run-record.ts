import { z } from 'zod';
import { BucketLocation } from '../location';
import { MediaKind } from '../media';
import { PartitionPlan } from './partition-store';
import { AggregationFormat, MachineType } from '../targets/roboflow/request-schemas';

export const JobOptions = z.object({
  machineType: MachineType.optional(),
  workersPerMachine: z.number().int().positive().optional(),
  processingTimeoutSeconds: z.number().int().positive().optional(),
  maxParallelTasks: z.number().int().positive().optional(),
  maxVideoFps: z.number().positive().optional(),
  aggregationFormat: AggregationFormat.optional(),
});
export type JobOptions = z.infer<typeof JobOptions>;

/** How a run's objects reach Roboflow: signed references, uploaded bytes, or references unless the plan refuses them. */
export const IngestMode = z.enum(['references', 'upload', 'auto']);

/** Where results go: `parts` as the target names them; `mirror` also under `by-key/<source key>`. */
export const ResultsLayout = z.enum(['parts', 'mirror']);
export type ResultsLayout = z.infer<typeof ResultsLayout>;

/** Which hosted batch API processes the run, with that target's own settings. */
export const TargetSpec = z.discriminatedUnion('name', [
  z.object({ name: z.literal('roboflow'), workspace: z.string(), workflowId: z.string(), job: JobOptions }),
  z.object({
    name: z.literal('extend'),
    processor: z.object({ kind: z.enum(['extract', 'classify', 'split']), id: z.string(), version: z.string().optional() }),
  }),
  z.object({ name: z.literal('llamacloud'), jobType: z.enum(['parse_v2', 'extract_v2']), configurationId: z.string() }),
]);
export type TargetSpec = z.infer<typeof TargetSpec>;

/** Everything a run was asked to do; fixed when the run is created. */
export const RunSpec = z.object({
  source: BucketLocation,
  dest: BucketLocation,
  media: MediaKind,
  target: TargetSpec,
  urlLifetimeSeconds: z.number().int().positive(),
  /** Where the references files go, in the source bucket. */
  manifestPrefix: z.string(),
  keepArchives: z.boolean(),
  /** `mirror`: each object's result is also written under `by-key/<source key>` (see results-by-key); default `parts`. */
  resultsLayout: ResultsLayout.optional(),
  /** How objects reach the target (targets with uploads): signed references, uploads, or references unless refused (absent: auto). */
  ingest: IngestMode.optional(),
  /** The S3 Inventory manifest the run reads its objects from instead of listing (see pipeline/partition/inventory.ts). */
  inventory: z.object({ bucket: z.string(), manifestKey: z.string() }).optional(),
});
export type RunSpec = z.infer<typeof RunSpec>;

export const ChunkStatus = z.enum(['written', 'submitted', 'ingested', 'failed']);

/** Longest error text a record keeps (errors quote remote text; the run and chunk items must stay small). */
export const MAX_ERROR_CHARS = 2_000;

/** An error message, cut to MAX_ERROR_CHARS (ending in '…' when cut; cutting again changes nothing). */
const ErrorText = z.string().transform((text) => (text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text));

export const Chunk = z.object({
  /** The source partition whose listing filled the chunk (absent: 0, the whole source); with `index`, the chunk's identity. */
  partition: z.number().int().nonnegative().optional(),
  index: z.number().int().nonnegative(),
  ingestId: z.string(),
  manifestKey: z.string(),
  references: z.number().int().nonnegative(),
  status: ChunkStatus,
  duplicated: z.boolean().optional(),
  shardIds: z.array(z.string()).optional(),
  /** The target's id for what this chunk created (linked to the run for its webhooks). */
  targetRef: z.string().optional(),
  /** Carries inputs signed again because the target could not fetch them the first time. */
  retry: z.boolean().optional(),
  error: ErrorText.optional(),
  /** Upload mode: the chunk's archives (or files) already put, as `[first, last]` index ranges of its deterministic plan. */
  archivesSent: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
});
export type Chunk = z.infer<typeof Chunk>;

/** A chunk's identity within its run: its partition (absent: 0) and its index there. */
export interface ChunkKey {
  partition?: number;
  index: number;
}

/** True when both name the same chunk (an absent partition is partition 0). */
export function sameChunk(a: ChunkKey, b: ChunkKey): boolean {
  return a.index === b.index && (a.partition ?? 0) === (b.partition ?? 0);
}

export const RunPhase = z.enum(['discovering', 'ingesting', 'processing', 'exporting', 'completed', 'failed']);
export type RunPhase = z.infer<typeof RunPhase>;

export const ExportedPart = z.object({ files: z.number().int(), bytes: z.number().int() });
export type ExportedPart = z.infer<typeof ExportedPart>;

/** A pass re-submitting the inputs the target could not fetch, claimed by one planner at a time. */
export const RetryPass = z.object({
  /** Inputs per retry chunk, fixed by the first claim so every pass splits the inputs alike. */
  chunkSize: z.number().int().positive(),
  /** The claim lapses then (a planner that died mid-pass is taken over). */
  claimedUntil: z.string(),
  /** Who holds it: a write whose answer was lost and is retried still finds its own claim. */
  owner: z.string().default(''),
});
export type RetryPass = z.infer<typeof RetryPass>;

/** A run's export being planned (output listed, copy messages sent) by one planner at a time. */
export const ExportPlanClaim = z.object({
  owner: z.string(),
  /** The claim lapses then (a planner that died is taken over). */
  claimedUntil: z.string(),
});
export type ExportPlanClaim = z.infer<typeof ExportPlanClaim>;

const RunRecordFields = z.object({
  runId: z.string(),
  batchId: z.string(),
  jobId: z.string(),
  /**
   * Random at creation and kept with the record: tells this run from a run of the same id in
   * another deployment (scheduled run ids come from the source id and the tick).
   */
  nonce: z.string().optional(),
  spec: RunSpec,
  phase: RunPhase,
  listed: z.number().int().default(0),
  skipped: z.record(z.string(), z.number().int()).default({}),
  /** The first few keys skipped for each reason (see skip-samples), for the run report. */
  skippedKeys: z.record(z.string(), z.array(z.string())).optional(),
  submitted: z.number().int().default(0),
  ingested: z.number().int().optional(),
  /** Where submission resumes: the listing token after the last submitted chunk, and its index. */
  checkpoint: z.object({ nextToken: z.string().optional(), nextChunk: z.number().int().nonnegative() }).default({ nextChunk: 0 }),
  /** Deployed fan-out: the sealed plan of the partitions listed in parallel (their progress is in items of their own). */
  partitions: PartitionPlan.optional(),
  /** Every input the target could not fetch has been submitted again (in the `retry` chunks). */
  retried: z.boolean().default(false),
  retryPass: RetryPass.optional(),
  /** Webhook mode: a later look at the ingest is queued until then (one chain of rechecks per run). */
  ingestRecheckAt: z.string().optional(),
  /** The ingest mode the run uses and why (set with the first chunk submitted). */
  ingest: z.object({ mode: z.enum(['references', 'upload']), reason: z.string() }).optional(),
  /** Upload mode: the archive limits every chunk's plan uses (fixed by the first upload slot). */
  uploadLimits: z.object({ maxMembers: z.number().int().positive(), maxBytes: z.number().int().positive() }).optional(),
  /** Set once every chunk has been written and handed to the target. */
  submissionComplete: z.boolean().default(false),
  jobStarted: z.boolean().default(false),
  jobState: z.string().optional(),
  /** The job stage whose output batches were copied (Roboflow: `export`, or the last one with output). */
  resultsStage: z.string().optional(),
  exportPlan: ExportPlanClaim.optional(),
  /** Number of result files the export planned; set once the whole output listing was read. */
  exportTasks: z.number().int().nonnegative().optional(),
  /** Totals only: the per-part figures are summed from the export task items (one part per target batch can be many). */
  exported: z.object({ files: z.number().int(), bytes: z.number().int() }).optional(),
  error: ErrorText.optional(),
  timings: z.record(z.string(), z.string()).default({}),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/**
 * Records written before retry chunks were flagged kept a map of input name -> the target id of
 * the chunk that re-submitted it (`resubmitted`): those chunks are retry chunks and the pass is done.
 */
function fromResubmittedMap(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !('resubmitted' in raw)) return raw;
  const { resubmitted, ...rest } = raw as { resubmitted?: Record<string, string>; chunks?: Array<{ targetRef?: string }> };
  const carriers = new Set(Object.values(resubmitted ?? {}));
  if (carriers.size === 0) return rest;
  return { ...rest, retried: true, chunks: (rest.chunks ?? []).map((c) => (c.targetRef && carriers.has(c.targetRef) ? { ...c, retry: true } : c)) };
}

/**
 * The run record: constant-size whatever the run's size. Its chunks are items of their own in the
 * state store (see StateStore.chunks), as are names, failures and export task outcomes.
 */
export const RunRecord = z.preprocess(fromResubmittedMap, RunRecordFields);
export type RunRecord = z.infer<typeof RunRecord>;

const InlineChunks = z.object({ chunks: z.array(Chunk).default([]) });

/**
 * The chunks a record written before chunks were items of their own carries inline (none for a
 * current record); stores move them out when they read such a record.
 */
export function inlineChunks(raw: unknown): Chunk[] {
  return InlineChunks.parse(fromResubmittedMap(raw)).chunks;
}

export const FileFailure = z.object({
  name: z.string(),
  key: z.string().optional(),
  stage: z.enum(['ingest', 'export']),
  type: z.string(),
  reason: z.string(),
});
export type FileFailure = z.infer<typeof FileFailure>;

export const ExportTaskResult = z.object({
  taskId: z.string(),
  part: z.string(),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  failure: z.object({ type: z.string(), reason: z.string() }).optional(),
});
export type ExportTaskResult = z.infer<typeof ExportTaskResult>;

export const NameMapping = z.object({ name: z.string(), key: z.string() });
export type NameMapping = z.infer<typeof NameMapping>;
