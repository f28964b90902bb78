import type { Chunk, RunRecord } from '../state/run-record';
import type { JobProgress } from '../progress';
import type { IngestProgress, JobOutcome } from './port';

/**
 * The shape shared by targets that process each chunk as a batch of their own as soon as it is
 * submitted (Extend, LlamaCloud): no ingest phase to confirm, no job to start, and the run's job
 * is done when every chunk's batch is.
 */
export abstract class BatchPerChunkTarget {
  readonly processesOnSubmission = true;
  protected abstract readonly service: string;
  protected abstract batchStatus(ref: string): Promise<string>;
  /** Statuses after which a batch changes no more. */
  protected abstract readonly terminalStatuses: ReadonlySet<string>;
  /** Statuses of a batch that produced results (others ended without). */
  protected abstract readonly resultStatuses: ReadonlySet<string>;

  /** Inputs are taken in with their batch; per-file failures show up at export. */
  async ingestProgress(run: RunRecord): Promise<IngestProgress> {
    return { count: run.submitted, shards: [] };
  }

  async *stagedNames(): AsyncIterable<string[]> {
    // Never needed: the count always equals what was submitted.
  }

  /** Processing started with each batch. */
  async startJob(): Promise<void> {}

  async jobOutcome(run: RunRecord, chunks: readonly Chunk[]): Promise<JobOutcome> {
    const { refs, statuses } = await this.statuses(run, chunks);
    if (statuses.some((s) => !this.terminalStatuses.has(s))) return { terminal: false, failed: false, outputBatches: [] };
    if (!statuses.some((s) => this.resultStatuses.has(s))) {
      return { terminal: true, failed: true, detail: `every ${this.service} batch ended ${statuses.join(', ')}`, outputBatches: [] };
    }
    return { terminal: true, failed: false, outputBatches: refs };
  }

  /** The run's batches that have ended, of all it has; the pace since the run began gives the ETA. */
  async jobProgress(run: RunRecord, chunks: readonly Chunk[]): Promise<JobProgress | undefined> {
    if (chunks.length === 0) return undefined;
    const { statuses } = await this.statuses(run, chunks);
    const done = statuses.filter((s) => this.terminalStatuses.has(s)).length;
    return { stage: 'batches', unit: 'batches', done, total: statuses.length, fraction: done / statuses.length, startedAt: run.timings.jobStartedAt ?? run.createdAt };
  }

  private async statuses(run: RunRecord, chunks: readonly Chunk[]): Promise<{ refs: string[]; statuses: string[] }> {
    const refs = chunks.map((c) => c.targetRef).filter((r): r is string => r !== undefined);
    if (refs.length !== chunks.length) throw new Error(`run ${run.runId}: ${chunks.length - refs.length} chunk(s) have no ${this.service} batch id`);
    return { refs, statuses: await Promise.all(refs.map((ref) => this.batchStatus(ref))) };
  }
}
