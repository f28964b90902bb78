import { advance, type AdvanceResult } from '../pipeline/chain';
import { exportResults } from '../pipeline/export';
import { sleep } from '../http/retry-policy';
import type { RunRecord } from '../state/run-record';
import type { BridgeDeps } from './deps';

export interface WaitOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Polls without a change in the staged count before ingest is taken as finished. */
  settlePolls?: number;
}

/**
 * How long the staged count a run's ingest shows has not moved: in time, and in looks that found
 * the ingest underway (only those settle it).
 */
class StagedCountWatch {
  private last: number | undefined;
  private since = Date.now();
  settling = 0;

  observe(result: AdvanceResult): void {
    if (result.state !== 'waiting') return;
    const same = result.count !== undefined && result.count === this.last;
    if (!same) this.since = Date.now();
    this.settling = same && result.underway ? this.settling + 1 : 0;
    this.last = result.count;
  }

  get quietMs(): number {
    return Date.now() - this.since;
  }
}

export class WaitTimeout extends Error {
  constructor(runId: string, phase: string) {
    super(`run ${runId} still ${phase} when the wait timed out; it continues at the target — wait for it again with \`bucket-bridge resume ${runId}\``);
    this.name = 'WaitTimeout';
  }
}

/**
 * Drives a run to the end by polling the target: staged count and shards, then the job status.
 * Ingest ends once every chunk shows a shard (or the count reached the total) and the count stopped
 * moving; while an ingest shows no shard yet, only the timeout (or NO_SHARD_QUIET_MS) ends the wait.
 */
export async function waitByPolling(deps: BridgeDeps, runId: string, options: WaitOptions): Promise<RunRecord> {
  const deadline = Date.now() + options.timeoutMs;
  const settlePolls = options.settlePolls ?? 3;
  const staged = new StagedCountWatch();
  for (;;) {
    const run = await deps.state.getRun(runId);
    if (!run) throw new Error(`run ${runId} not found`);
    if (run.phase === 'completed' || run.phase === 'failed') return run;
    if (run.phase === 'ingesting') {
      const result = await advance(deps, runId, {
        awaitIngestEvents: false,
        settled: staged.settling >= settlePolls,
        longSettled: staged.settling >= settlePolls * 4,
        quietMs: staged.quietMs,
      });
      staged.observe(result);
    } else if (run.phase === 'processing' || run.phase === 'exporting') {
      await exportResults(deps, runId);
    }
    const fresh = await deps.state.getRun(runId);
    if (fresh && (fresh.phase === 'completed' || fresh.phase === 'failed')) return fresh;
    if (Date.now() >= deadline) throw new WaitTimeout(runId, fresh?.phase ?? run.phase);
    await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Waits while webhooks drive the run (the receiver runs advance/export). While the run ingests, it
 * also looks through the API every interval once every notification is in: one may have come early
 * (its shards still running) and none may follow. A count that stops moving for long ends the
 * ingest, as when polling, once every chunk shows a shard.
 */
export async function waitForWebhooks(deps: BridgeDeps, runId: string, options: WaitOptions): Promise<RunRecord> {
  const deadline = Date.now() + options.timeoutMs;
  const settlePolls = options.settlePolls ?? 3;
  let nextLook = Date.now() + options.intervalMs;
  const staged = new StagedCountWatch();
  for (;;) {
    const run = await deps.state.getRun(runId);
    if (!run) throw new Error(`run ${runId} not found`);
    if (run.phase === 'completed' || run.phase === 'failed') return run;
    if (run.phase === 'ingesting' && Date.now() >= nextLook) {
      nextLook = Date.now() + options.intervalMs;
      const result = await advance(deps, runId, { awaitIngestEvents: true, longSettled: staged.settling >= settlePolls * 4, quietMs: staged.quietMs });
      // While notifications are due the count is unknown: the quiet time starts once they are all in.
      staged.observe(result);
    }
    if (Date.now() >= deadline) throw new WaitTimeout(runId, run.phase);
    await sleep(Math.min(250, options.intervalMs));
  }
}
