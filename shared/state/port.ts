import type { Chunk, ChunkKey, ExportTaskResult, FileFailure, NameMapping, RunRecord } from './run-record';
import type { ExportTaskOrder } from './export-order';
import type { PartitionStore } from './partition-store';

/**
 * The state port: runs, their chunks, webhook event ids, per-file outcomes and the name -> key map.
 * Implementations: file-backed (CLI, demo) and DynamoDB (deployed).
 */
export interface StateStore {
  /** The partition items of runs listed by several invocations at once (deployed fan-out). */
  readonly partitions: PartitionStore;
  /** Rejects with RunExistsError if a run with the same id exists. */
  createRun(run: RunRecord): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Atomic read-modify-write of one run; `change` may be called more than once under contention. */
  updateRun(runId: string, change: (run: RunRecord) => RunRecord): Promise<RunRecord>;
  /**
   * Atomic read-modify-write of one chunk of a run (an item of its own, so the run record stays
   * constant-size): `change` gets the chunk as stored (undefined when there is none yet) and
   * returns what to store, or undefined to leave it as it is; it may be called more than once
   * under contention. Returns the chunk as stored afterwards.
   */
  updateChunk(runId: string, key: ChunkKey, change: (chunk: Chunk | undefined) => Chunk | undefined): Promise<Chunk | undefined>;
  getChunk(runId: string, key: ChunkKey): Promise<Chunk | undefined>;
  /** The run's chunks in (partition, index) order. */
  chunks(runId: string): AsyncIterable<Chunk>;
  findRunByBatchId(batchId: string): Promise<RunRecord | undefined>;
  findRunByJobId(jobId: string): Promise<RunRecord | undefined>;
  /** Routes another target-side id (e.g. one of a run's several target batches) to the run. */
  linkJob(jobId: string, runId: string): Promise<void>;
  /** True once the event was handled (recorded, or completed after a claim). */
  hasEvent(eventId: string): Promise<boolean>;
  /** Records a webhook event id as handled; true the first time, false for every repeat. */
  recordEvent(eventId: string): Promise<boolean>;
  /**
   * Claims a webhook event for handling, so concurrent copies of it are handled once: `claimed`
   * for the one caller that may handle it now, `in-flight` while another caller's claim lasts,
   * `done` once it was handled. A claim lapses at `leaseUntil` (its holder died), or is released.
   */
  claimEvent(eventId: string, claim: EventClaim): Promise<'claimed' | 'in-flight' | 'done'>;
  /** The claimed event was handled: every later copy is a duplicate. */
  completeEvent(eventId: string): Promise<void>;
  /** Handling failed: the claim is dropped (if still `owner`'s) so the sender's retry handles it. */
  releaseEvent(eventId: string, owner: string): Promise<void>;
  appendNames(runId: string, entries: NameMapping[]): Promise<void>;
  names(runId: string): AsyncIterable<NameMapping>;
  /** Keys for the given reference names (names without a mapping are left out). */
  resolveNames(runId: string, names: Iterable<string>): Promise<Map<string, string>>;
  /** Adds per-file failures, ignoring ones already recorded for the same name and stage. */
  recordFailures(runId: string, failures: FileFailure[]): Promise<void>;
  failures(runId: string): AsyncIterable<FileFailure>;
  /** Drops recorded failures of one stage (a file reported failed that the target staged after all). */
  forgetFailures(runId: string, stage: FileFailure['stage'], names: Iterable<string>): Promise<void>;
  /**
   * Records the outcome of one export task (one result file), once per task id: a repeat of the
   * same task id changes nothing. `order`: the task's place in its plan (absent on tasks planned
   * before tasks were numbered). `complete` is true when every planned task (the run's
   * exportTasks) has an outcome, for exactly one task id, or the planner (checkExportComplete): a
   * repeat of that task id is told again, in case the one told first died before finishing.
   */
  recordExportTask(runId: string, result: ExportTaskResult, order?: ExportTaskOrder): Promise<{ complete: boolean }>;
  /**
   * For the planner once it stored exportTasks: whether every task has an outcome already (the
   * last ones may have finished before the total was known), with the same claim as above.
   */
  checkExportComplete(runId: string): Promise<{ complete: boolean }>;
  exportTaskResults(runId: string): AsyncIterable<ExportTaskResult>;
  /** Forgets export task outcomes and export failures, before the export runs again. */
  resetExport(runId: string): Promise<void>;
}

/** Who claims an event, and until when (epoch milliseconds) the claim holds. */
export interface EventClaim {
  owner: string;
  leaseUntil: number;
}

/** createRun found the id taken: for a replayed trigger, the run it started before. */
export class RunExistsError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} already exists`);
    this.name = 'RunExistsError';
  }
}
