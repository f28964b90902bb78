import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { MediaKind } from '../media';
import type { JobProgress } from '../progress';
import type { Chunk, RunRecord } from '../state/run-record';

export interface FailedFile {
  name: string;
  type: string;
  reason: string;
}

/** Webhook notifications, normalised across targets. */
export type TargetEvent =
  | { kind: 'ingest-status'; eventId: string; batchId: string; ingestId: string; success: boolean; error?: string }
  | {
      kind: 'files-status';
      eventId: string;
      batchId: string;
      ingestId: string;
      ingested: string[];
      failed: FailedFile[];
      truncated: boolean;
    }
  | { kind: 'job'; eventId: string; jobId: string; state: string };

/** One object of a chunk, named and signed. The URL is a credential: never log it. */
export interface SignedReference {
  name: string;
  key: string;
  url: string;
}

export interface ChunkSubmission {
  ingestId: string;
  /** Signed URL of the chunk's JSONL references file. A credential: never log it. */
  referencesUrl: string;
  /** The chunk's references, for targets that take them inline or upload the objects (not `references-file`). */
  references?: SignedReference[];
}

export interface ChunkReceipt {
  duplicated: boolean;
  shardIds?: string[];
  /** The target's own id for what it created (e.g. an Extend batch); its webhooks name the run by it. */
  ref?: string;
  /** The target has no separate ingest phase: the chunk is taken in as soon as it is accepted. */
  ingested?: boolean;
}

/**
 * How a target takes objects in: one signed JSONL references file per chunk (Roboflow), the signed
 * references inline in the request (Extend), or the objects' bytes uploaded (LlamaCloud).
 */
export type Intake = 'references-file' | 'inline-references' | 'uploads';

export interface IngestProgress {
  /** Items the target holds for the run's input batch. */
  count: number;
  shards: Array<{ id: string; running: boolean; failed: boolean; detail: string }>;
}

export interface JobOutcome {
  terminal: boolean;
  failed: boolean;
  detail?: string;
  /** Batches holding the results to copy back. */
  outputBatches: string[];
  /** The job stage those batches come from, when the target's jobs have stages (named in the summary). */
  resultsStage?: string;
}

/**
 * Where a result file's bytes come from: a signed download URL (a credential: never log it), or a
 * result the target serves through its API (e.g. one run's output), opened by the target itself.
 */
export type OutputLocator = { kind: 'url'; url: string } | { kind: 'api'; ref: string };

export interface OutputFile {
  partName?: string;
  fileName: string;
  locator: OutputLocator;
  /** The target reports this result as failed: recorded as a failed file, nothing is copied. */
  failed?: ResultFailure;
}

export interface ResultFailure {
  type: string;
  reason: string;
  /** The input could not be fetched (e.g. its signed URL expired first): re-sign and submit it again. */
  retryInput?: { key: string; name: string };
}

export interface OpenedOutput {
  body: Readable;
  /** Byte count when known in advance (checked against what was stored). */
  length?: number;
}

/**
 * What a target's access check found wrong: the key is refused (`api-key`), or it works but not in
 * the workspace (or project) the run names (`workspace`). `expected` says what would be right.
 */
export interface AccessProblem {
  setting: 'api-key' | 'workspace';
  expected: string;
  received?: string;
}

/** A signed PUT the target hands out for uploaded bytes. The URL is a credential: never log it. */
export interface UploadSlot {
  url: string;
  /** Headers the signature covers: sent with the PUT as given. */
  headers: Record<string, string>;
  /** Most members and bytes one archive (or file) put here may have, when the target says. */
  maxMembers?: number;
  maxBytes?: number;
}

/**
 * Ingest by upload, for targets that also take objects' bytes (Roboflow plans without signed-URL
 * ingest): tar archives of images, or one file at a time (videos).
 */
export interface UploadIntake {
  archiveSlot(run: RunRecord): Promise<UploadSlot>;
  fileSlot(run: RunRecord, name: string): Promise<UploadSlot>;
  /**
   * Why the target refused a references submission because the account takes no signed-URL
   * ingest (so uploads would work); undefined for any other error.
   */
  referencesRefusal(err: unknown): string | undefined;
}

/**
 * The target port: a hosted batch API that ingests signed references, runs a job and exposes
 * output files. Roboflow is the first adapter; Extend and LlamaCloud sit beside it.
 */
export interface BatchTarget {
  readonly name: string;
  readonly intake: Intake;
  /**
   * Each chunk is processed from its submission on, with no job to start (a batch per chunk): the
   * outcome notifications can all arrive before the run is processing, so the outcome is checked
   * once it is.
   */
  readonly processesOnSubmission?: boolean;
  /** Ingest by upload (`--ingest upload`, or `auto` when references are refused); absent: references only. */
  readonly uploads?: UploadIntake;
  /** A JSONL file (in the run folder) that joins every per-object JSON result, when the target wants one. */
  readonly combinedResults?: string;
  /** Most objects one chunk (one submission) may hold for this media kind. */
  maxPerChunk(media: MediaKind): number;
  /** Largest object the target accepts (bigger ones are skipped as `too-large`); undefined: no limit known. */
  maxObjectBytes(media: MediaKind): number | undefined;
  /**
   * One cheap authenticated read before anything is submitted: undefined when the key works in the
   * run's workspace, else what is wrong. Transient failures throw (after the usual retries).
   */
  checkAccess(): Promise<AccessProblem | undefined>;
  /**
   * For targets with rules on the signed URLs they are given (Roboflow: plain http only with an opt-in): checks
   * a sample, signed only when needed, before anything is written; what would be right otherwise.
   */
  checkSignedUrls?(sample: () => Promise<string>): Promise<{ expected: string; received: string } | undefined>;
  submitChunk(run: RunRecord, chunk: ChunkSubmission): Promise<ChunkReceipt>;
  /**
   * Verifies and validates a webhook body; throws WebhookRejected for anything unauthenticated or
   * malformed. Undefined for genuine events the bridge has no use for (acknowledged, not recorded).
   */
  parseWebhook(headers: IncomingHttpHeaders, rawBody: string): TargetEvent | undefined;
  ingestProgress(run: RunRecord): Promise<IngestProgress>;
  /** Names of the items the target actually ingested, page by page (for reconciliation). */
  stagedNames(run: RunRecord): AsyncIterable<string[]>;
  startJob(run: RunRecord): Promise<void>;
  /** The run's processing, confirmed through the API (a run may span several target batches: one per chunk of `chunks`). */
  jobOutcome(run: RunRecord, chunks: readonly Chunk[]): Promise<JobOutcome>;
  /** How far the run's processing is now, for people (progress lines, `status`); undefined before it began or where the target cannot tell. */
  jobProgress?(run: RunRecord, chunks: readonly Chunk[]): Promise<JobProgress | undefined>;
  outputFiles(run: RunRecord, outputBatch: string): AsyncIterable<OutputFile[]>;
  /** Opens one result file; `label` names it in errors (never the locator). */
  openOutput(locator: OutputLocator, label: string): Promise<OpenedOutput>;
}

export class WebhookRejected extends Error {
  constructor(
    readonly status: 400 | 401,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRejected';
  }
}

/** The JSON of a webhook body, or a 400 rejection. */
export function webhookJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new WebhookRejected(400, 'body is not JSON');
  }
}
