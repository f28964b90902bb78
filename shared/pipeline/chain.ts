import { errorMessage } from '../errors';
import type { Logger } from '../log';
import { KeyedLock } from '../run-lock';
import type { StateStore } from '../state/port';
import type { ObjectStore } from '../storage/port';
import type { FileFailure, RunRecord } from '../state/run-record';
import type { BatchTarget, FailedFile, TargetEvent } from '../targets/port';
import { endRunFailed } from './fail-run';

export interface ChainDeps {
  state: StateStore;
  /** Where a failed run's summary goes. */
  dest: ObjectStore;
  target: BatchTarget;
  log: Logger;
}

/** What the receiver should do next, outside the webhook's response time. */
export type FollowUp = { action: 'advance' | 'export'; runId: string };

export type EventOutcome = { outcome: 'duplicate' | 'ignored' } | { outcome: 'recorded'; followUp: FollowUp };

/**
 * Applies one verified notification to the run it belongs to, once per event id. Every change is
 * idempotent too, so two copies racing through here leave the same state as one. `handOn` (when
 * given) receives the follow-up before the event id is recorded: if handing on fails, the sender's
 * retry is processed again instead of being dropped as a duplicate.
 */
export async function applyEvent(
  deps: Pick<ChainDeps, 'state' | 'log'>,
  event: TargetEvent,
  handOn?: (followUp: FollowUp) => Promise<void>,
): Promise<EventOutcome> {
  if (await deps.state.hasEvent(event.eventId)) return { outcome: 'duplicate' };
  const run = event.kind === 'job' ? await deps.state.findRunByJobId(event.jobId) : await deps.state.findRunByBatchId(event.batchId);
  if (!run) {
    deps.log.warn('notification for an unknown run ignored', { eventId: event.eventId, kind: event.kind });
    await deps.state.recordEvent(event.eventId);
    return { outcome: 'ignored' };
  }
  const followUp = await applyToRun(deps, run, event);
  await handOn?.(followUp);
  const first = await deps.state.recordEvent(event.eventId);
  return first ? { outcome: 'recorded', followUp } : { outcome: 'duplicate' };
}

async function applyToRun(deps: Pick<ChainDeps, 'state'>, run: RunRecord, event: TargetEvent): Promise<FollowUp> {
  switch (event.kind) {
    case 'ingest-status':
      await deps.state.updateRun(run.runId, (r) => ({
        ...r,
        chunks: r.chunks.map((c) =>
          c.ingestId === event.ingestId ? { ...c, status: event.success ? 'ingested' : 'failed', error: event.error } : c,
        ),
      }));
      return { action: 'advance', runId: run.runId };
    case 'files-status':
      await recordIngestFailures(deps.state, run.runId, event.failed);
      return { action: 'advance', runId: run.runId };
    case 'job':
      await deps.state.updateRun(run.runId, (r) => ({ ...r, jobState: event.state }));
      return { action: 'export', runId: run.runId };
  }
}

export async function recordIngestFailures(state: StateStore, runId: string, failed: FailedFile[]): Promise<void> {
  if (failed.length === 0) return;
  const keys = await state.resolveNames(runId, failed.map((f) => f.name));
  const failures: FileFailure[] = failed.map((f) => ({ name: f.name, key: keys.get(f.name), stage: 'ingest', type: f.type, reason: f.reason }));
  await state.recordFailures(runId, failures);
}

export type AdvanceResult =
  | { state: 'not-applicable' | 'started' | 'failed' }
  | { state: 'waiting'; count?: number; reason: string };

export interface AdvanceOptions {
  /** Webhook mode: wait for every chunk's ingest-status before asking the API. */
  awaitIngestEvents: boolean;
  /** Polling mode: the count has stopped moving (and no shard says it is still running). */
  settled?: boolean;
  /**
   * Polling mode: the count has not moved for much longer. Shard status values are not published,
   * so a shard that never leaves `info` must not hold a run forever.
   */
  longSettled?: boolean;
}

const locks = new KeyedLock();

/**
 * Starts the job once ingest is complete and confirmed through the API: no shard in error, and
 * the staged count equals what was submitted minus the files reported as failed. When the count
 * falls short after ingest ended, the staged names are listed to find out which files are missing.
 */
export function advance(deps: ChainDeps, runId: string, options: AdvanceOptions): Promise<AdvanceResult> {
  return locks.run(runId, async () => {
    const run = await deps.state.getRun(runId);
    if (!run || run.phase !== 'ingesting' || !run.submissionComplete || run.jobStarted) return { state: 'not-applicable' };
    try {
      return await advanceIngesting(deps, run, options);
    } catch (err) {
      await endRunFailed(deps, runId, `could not start the job: ${errorMessage(err)}`);
      return { state: 'failed' };
    }
  });
}

async function advanceIngesting(deps: ChainDeps, run: RunRecord, options: AdvanceOptions): Promise<AdvanceResult> {
  // A duplicated chunk is one Roboflow already had: its first submission's notifications report it.
  const pending = run.chunks.filter((c) => c.status === 'written' || c.status === 'submitted');
  if (options.awaitIngestEvents && pending.length > 0) {
    return { state: 'waiting', reason: `${pending.length} of ${run.chunks.length} ingests still running` };
  }
  const failedChunks = run.chunks.filter((c) => c.status === 'failed');
  if (run.chunks.length === 0 || failedChunks.length === run.chunks.length) {
    const detail = failedChunks.map((c) => c.error).filter(Boolean)[0] ?? 'nothing was submitted';
    await endRunFailed(deps, run.runId, `ingest failed: ${detail}`);
    return { state: 'failed' };
  }

  const progress = await deps.target.ingestProgress(run);
  const broken = progress.shards.filter((s) => s.failed);
  if (broken.length > 0) {
    await endRunFailed(deps, run.runId, `ingest failed: ${broken.length} shard(s) in an error state, e.g. ${broken[0]!.id}: ${broken[0]!.detail}`);
    return { state: 'failed' };
  }
  const running = progress.shards.some((s) => s.running);
  const ingestEnded = options.awaitIngestEvents || (options.settled === true && !running) || options.longSettled === true;

  let expected = await expectedCount(deps.state, run);
  if (progress.count < expected || failedChunks.length > 0) {
    if (!ingestEnded) return { state: 'waiting', count: progress.count, reason: `${progress.count} of ${expected} items staged` };
    expected = await reconcileMissing(deps, run);
    if (progress.count < expected) {
      await endRunFailed(deps, run.runId, `ingest ended with ${progress.count} items staged, ${expected} expected`);
      return { state: 'failed' };
    }
  }
  if (progress.count === 0) {
    await endRunFailed(deps, run.runId, 'ingest ended with no items staged: every file failed');
    return { state: 'failed' };
  }

  await deps.target.startJob(run);
  await deps.state.updateRun(run.runId, (r) => ({
    ...r,
    phase: 'processing',
    jobStarted: true,
    ingested: progress.count,
    timings: { ...r.timings, jobStartedAt: new Date().toISOString() },
  }));
  deps.log.info('job started', { runId: run.runId, jobId: run.jobId, items: progress.count });
  return { state: 'started' };
}

/** Submitted references minus those known to have failed (per file, or with their whole chunk). */
async function expectedCount(state: StateStore, run: RunRecord): Promise<number> {
  let failedFiles = 0;
  for await (const f of state.failures(run.runId)) if (f.stage === 'ingest') failedFiles++;
  const failedChunkRefs = run.chunks.filter((c) => c.status === 'failed').reduce((n, c) => n + c.references, 0);
  return run.submitted - failedFiles - failedChunkRefs;
}

/**
 * Lists what the target staged, records every other submitted name as a failed file (with the
 * error of its chunk when the whole ingest failed) and returns how many items are staged.
 */
async function reconcileMissing(deps: ChainDeps, run: RunRecord): Promise<number> {
  const staged = new Set<string>();
  for await (const page of deps.target.stagedNames(run)) for (const name of page) staged.add(name);
  const known = new Set<string>();
  for await (const f of deps.state.failures(run.runId)) if (f.stage === 'ingest') known.add(f.name);
  const chunkError = run.chunks.find((c) => c.status === 'failed')?.error;
  const missing: FileFailure[] = [];
  for await (const { name, key } of deps.state.names(run.runId)) {
    if (staged.has(name) || known.has(name)) continue;
    missing.push({ name, key, stage: 'ingest', type: 'not-ingested', reason: chunkError ?? 'not in the staged batch after ingest ended' });
  }
  await deps.state.recordFailures(run.runId, missing);
  return staged.size;
}
