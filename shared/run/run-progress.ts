import { errorMessage } from '../errors';
import { listingCounts } from '../pipeline/listing-counts';
import { etaSeconds, type JobProgress } from '../progress';
import type { StateStore } from '../state/port';
import { readChunks } from '../state/run-chunks';
import type { RunPhase, RunRecord } from '../state/run-record';
import type { BatchTarget } from '../targets/port';

/** Where a run is, from its record and, while it runs, from the target. */
export interface RunProgress {
  phase: RunPhase;
  listed: number;
  submitted: number;
  /** While ingesting: items the target holds of those submitted, and files reported failed so far. */
  ingest?: { ingested: number; expected: number; failed: number };
  /** While processing: the target's own account of the job, with the ETA it implies. */
  job?: JobProgress & { etaSeconds?: number };
  /**
   * Result files done (copied or recorded failed), how many there are once the listing was read,
   * and the files and bytes they stored (an archive stores its members).
   */
  export?: { done: number; total?: number; files: number; bytes: number };
  /** The target could not be asked (its answer is left out, the rest stands). */
  targetError?: string;
}

export interface ReadOptions {
  nowMs?: number;
  /** How long the target may take to answer (with its retries) before its part is left out. */
  targetTimeoutMs?: number;
}

/** A look at the target's progress is given up after this long (its retries can take minutes). */
export const TARGET_TIMEOUT_MS = 15_000;

/**
 * Reads a run's progress: counts from the state (before a partitioned run's join, its partitions':
 * see listingCounts), and from the target what only it knows (the ingested count while ingesting,
 * the job's stage and tasks while processing). A failed look at the target is reported in
 * `targetError`, never thrown: progress is for people and must not end a run.
 */
export async function readRunProgress(state: StateStore, target: BatchTarget | undefined, run: RunRecord, options: ReadOptions = {}): Promise<RunProgress> {
  const { listed, submitted } = await listingCounts(state, run);
  const progress: RunProgress = { phase: run.phase, listed, submitted };
  const timeoutMs = options.targetTimeoutMs ?? TARGET_TIMEOUT_MS;
  let ingested: number | undefined;
  try {
    if (run.phase === 'ingesting' && target) {
      ingested = (await withDeadline(target.ingestProgress(run), timeoutMs)).count;
    } else if (run.phase === 'processing' && target?.jobProgress) {
      const job = await withDeadline(target.jobProgress(run, await readChunks(state, run.runId)), timeoutMs);
      if (job) progress.job = { ...job, etaSeconds: etaSeconds(job, options.nowMs ?? Date.now()) };
    }
  } catch (err) {
    progress.targetError = errorMessage(err);
  }
  if (ingested !== undefined) progress.ingest = { ingested, expected: run.submitted, failed: await failedInIngest(state, run.runId) };
  if (run.phase === 'exporting' || run.exportTasks !== undefined) {
    const exported = { done: 0, total: run.exportTasks, files: 0, bytes: 0 };
    for await (const task of state.exportTaskResults(run.runId)) {
      exported.done++;
      exported.files += task.files;
      exported.bytes += task.bytes;
    }
    progress.export = exported;
  }
  return progress;
}

async function failedInIngest(state: StateStore, runId: string): Promise<number> {
  let failed = 0;
  for await (const f of state.failures(runId)) if (f.stage === 'ingest') failed++;
  return failed;
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
