/** In-memory state of the emulator: staged batches (input and job output), file contents and jobs. */
import { randomUUID } from 'node:crypto';
import { notFound } from './http-io';
import type { JobDefinition, LogSeverity } from './schemas';

/** sharded: filled by bulk ingests (references, tar uploads); simple: by single uploads; multipart: job output. */
export type BatchType = 'sharded-batch' | 'simple-batch' | 'multipart-batch';
export type BatchContentType = 'images' | 'videos' | 'metadata' | 'archives';

/** Bytes of a staged file; large inputs keep only their size (served as a zero-filled placeholder). */
export type StoredContent =
  | { kind: 'bytes'; data: Buffer; mimeType: string }
  | { kind: 'placeholder'; size: number; mimeType: string };

export interface StagedFile {
  fileName: string;
  partName: string | null;
  shardId: string | null;
  contentType: string;
  nestedContentType: string | null;
  size: number;
  sha256?: string;
  contentId: string;
}

export interface Shard {
  shardId: string;
  ingestId: string;
  statusName: string;
  statusType: string;
  eventTimestamp: string;
  shardObjectsCount: number;
  statusMetadata: Record<string, unknown> | null;
}

export interface BatchPart {
  partName: string;
  partType: string;
  contentType: string;
  partDescription?: string;
  nestedContentType?: string;
}

export interface Batch {
  batchId: string;
  displayName: string;
  batchType: BatchType;
  batchContentType: BatchContentType;
  createdDate: string;
  expiryDate: string;
  parts: BatchPart[];
  files: StagedFile[];
  shards: Shard[];
  ingestIds: Set<string>;
  /** File names taken by finished or in-flight ingests, to reject duplicates inside the batch. */
  reservedNames: Set<string>;
}

/** A signed PUT URL handed out by `upload/video` or `bulk-upload/image-files`. */
export interface UploadSlot {
  uploadId: string;
  batchId: string;
  kind: 'video' | 'image-archive';
  /** The video's file name (videos), or the shard the archive becomes (archives). */
  fileName?: string;
  shardId?: string;
  /** Headers the PUT must carry, exactly as announced. */
  extensionHeaders: Record<string, string>;
  maxBytes: number;
  /** Set by the first successful PUT; a repeated PUT of the same bytes is then a no-op. */
  uploadedSha256?: string;
}

export interface TaskState {
  taskId: string;
  notification: Record<string, unknown>;
  statusType: string;
  progress: number;
  eventTimestamp: string;
}

export interface StageState {
  processingStageId: string;
  processingStageName: string;
  tasksNumber: number;
  outputBatches: string[];
  startTimestamp: string;
  lastEventTimestamp: string;
  notification: Record<string, unknown>;
  statusType: string;
  tasks: TaskState[];
}

export interface LogEntry {
  createdAt: string;
  processingStageId?: string;
  taskId?: string;
  severity: LogSeverity;
  reportingModule: string;
  logType: string;
  payload: Record<string, unknown>;
}

export interface JobState {
  jobId: string;
  name: string;
  definition: JobDefinition;
  /** The body as received; idempotent re-submissions are compared against it. */
  rawDefinition: unknown;
  currentStage: string | null;
  plannedStages: string[];
  error: boolean;
  isTerminal: boolean;
  lastNotification: Record<string, unknown> | null;
  createdAt: string;
  lastUpdate: string;
  restartParametersOverride: object[];
  stages: StageState[];
  logs: LogEntry[];
  /** Bumped on restart so timers of an earlier run become no-ops. */
  run: number;
}

const STAGED_DATA_TTL_MS = 7 * 24 * 3600 * 1000;

export const nowIso = () => new Date().toISOString();

export class Store {
  readonly batches = new Map<string, Batch>();
  readonly jobs = new Map<string, JobState>();
  readonly uploadSlots = new Map<string, UploadSlot>();
  private readonly contents = new Map<string, StoredContent>();

  getBatch(batchId: string): Batch {
    const batch = this.batches.get(batchId);
    if (!batch) throw notFound(`batch ${batchId} not found`);
    return batch;
  }

  createBatch(init: Pick<Batch, 'batchId' | 'displayName' | 'batchType' | 'batchContentType'> & { parts?: BatchPart[] }): Batch {
    const created = new Date();
    const batch: Batch = {
      ...init,
      createdDate: created.toISOString(),
      expiryDate: new Date(created.getTime() + STAGED_DATA_TTL_MS).toISOString(),
      parts: init.parts ?? [],
      files: [],
      shards: [],
      ingestIds: new Set(),
      reservedNames: new Set(),
    };
    this.batches.set(batch.batchId, batch);
    return batch;
  }

  /** Files of a batch, optionally restricted to one part (404 for a part the batch does not have). */
  filesOf(batch: Batch, partName: string | undefined): StagedFile[] {
    if (partName === undefined || partName === '') return batch.files;
    if (!batch.parts.some((p) => p.partName === partName)) {
      throw notFound(`part ${partName} not found in batch ${batch.batchId}`);
    }
    return batch.files.filter((f) => f.partName === partName);
  }

  putContent(content: StoredContent): string {
    const id = randomUUID();
    this.contents.set(id, content);
    return id;
  }

  getContent(contentId: string): StoredContent | undefined {
    return this.contents.get(contentId);
  }

  getJob(jobId: string): JobState {
    const job = this.jobs.get(jobId);
    if (!job) throw notFound(`job ${jobId} not found`);
    return job;
  }
}
