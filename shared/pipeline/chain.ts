import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import { KeyedLock } from '../run-lock';
import type { StateStore } from '../state/port';
import { readChunks } from '../state/run-chunks';
import type { ObjectStore } from '../storage/port';
import type { Chunk, FileFailure, RunRecord } from '../state/run-record';
import type { BatchTarget, FailedFile, IngestProgress, TargetEvent } from '../targets/port';
import { endRunFailed } from './fail-run';
import { chunksWithoutShard, NO_SHARD_QUIET_MS } from './shard-evidence';

export interface ChainDeps {
  state: StateStore;
  /** Where a failed run's summary goes. */
  dest: ObjectStore;
  target: BatchTarget;
  log: Logger;
}

/** What the receiver should do next, outside the webhook's response time. */
export type FollowUp = { action: 'advance' | 'export'; runId: string };

export type EventOutcome = { outcome: 'duplicate' | 'ignored' | 'in-progress' } | { outcome: 'recorded'; followUp: FollowUp };

/**
 * How long one copy of an event may be handled before another copy takes it over (its handler is
 * taken for dead then). Deployed, the webhook function's time left bounds it instead.
 */
export const DEFAULT_EVENT_LEASE_MS = 30_000;

const isEnded = (run: RunRecord) => run.phase === 'completed' || run.phase === 'failed';
/** Before the job starts: what ingest notifications may still change. */
const isIngesting = (run: RunRecord) => run.phase === 'discovering' || run.phase === 'ingesting';

/**
 * Applies one verified notification to the run it belongs to, once per event id, however many
 * copies arrive at once: the event id is claimed first (a lease), so one copy is handled while the
 * others answer `in-progress` (the sender retries them) or `duplicate`. `handOn` (when given)
 * receives the follow-up before the event counts as handled; if anything fails, the claim is
 * released, so the sender's retry is handled again instead of being dropped as a duplicate.
 *
 * A notification only records what it reports and asks for a follow-up that checks through the
 * target's API: it never ends a run, and it changes nothing in a run that has ended.
 */
export async function applyEvent(
  deps: Pick<ChainDeps, 'state' | 'log'>,
  event: TargetEvent,
  handOn?: (followUp: FollowUp) => Promise<void>,
  leaseMs = DEFAULT_EVENT_LEASE_MS,
): Promise<EventOutcome> {
  const owner = randomUUID();
  const claim = await deps.state.claimEvent(event.eventId, { owner, leaseUntil: Date.now() + leaseMs });
  if (claim === 'done') return { outcome: 'duplicate' };
  if (claim === 'in-flight') return { outcome: 'in-progress' };
  try {
    const run = event.kind === 'job' ? await deps.state.findRunByJobId(event.jobId) : await deps.state.findRunByBatchId(event.batchId);
    if (!run) deps.log.warn('notification for an unknown run ignored', { eventId: event.eventId, kind: event.kind });
    const followUp = run && (await applyToRun(deps, run, event));
    if (run && !followUp) deps.log.info('notification for a run past that stage ignored', { eventId: event.eventId, kind: event.kind, runId: run.runId, phase: run.phase });
    if (followUp) await handOn?.(followUp);
    await deps.state.completeEvent(event.eventId);
    return followUp ? { outcome: 'recorded', followUp } : { outcome: 'ignored' };
  } catch (err) {
    await deps.state.releaseEvent(event.eventId, owner).catch(() => undefined);
    throw err;
  }
}

/**
 * Records what the notification reports, unless the run is past the stage it is about: ingest
 * news only before the job starts, a chunk's first outcome only (a late or replayed one changes
 * nothing), job news only while the run has not ended. Undefined when there is nothing to follow up.
 */
async function applyToRun(deps: Pick<ChainDeps, 'state'>, run: RunRecord, event: TargetEvent): Promise<FollowUp | undefined> {
  switch (event.kind) {
    case 'ingest-status': {
      if (!isIngesting(run)) return undefined;
      const reported = (c: Chunk) => c.ingestId === event.ingestId && (c.status === 'written' || c.status === 'submitted');
      for await (const chunk of deps.state.chunks(run.runId)) {
        if (!reported(chunk)) continue;
        await deps.state.updateChunk(run.runId, chunk, (c) => (c && reported(c) ? { ...c, status: event.success ? 'ingested' : 'failed', error: event.error } : undefined));
        break;
      }
      return { action: 'advance', runId: run.runId };
    }
    case 'files-status':
      if (!isIngesting(run)) return undefined;
      await recordIngestFailures(deps.state, run.runId, event.failed);
      return { action: 'advance', runId: run.runId };
    case 'job':
      if (isEnded(run)) return undefined;
      // Only a hint until the export confirms the outcome through the API (which sets it again).
      if (run.jobState === undefined) {
        await deps.state.updateRun(run.runId, (r) => (isEnded(r) || r.jobState !== undefined ? r : { ...r, jobState: event.state }));
      }
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
  | {
      state: 'waiting';
      count?: number;
      /**
       * The ingest has shown it got going (every chunk shows a shard, or the count is complete):
       * from here on an unchanged count settles it (`settled`, `longSettled`).
       */
      underway?: boolean;
      reason: string;
      /**
       * Webhook mode: every notification is in, but the API says ingest goes on. No further
       * notification may come, so the caller checks again later.
       */
      recheck?: boolean;
    };

export interface AdvanceOptions {
  /** Webhook mode: wait for every chunk's ingest-status before asking the API. */
  awaitIngestEvents: boolean;
  /** Polling mode: the count has stopped moving while the ingest was underway (and no shard says it is still running). */
  settled?: boolean;
  /**
   * The count has not moved for much longer while the ingest was underway (polling, or rechecks
   * in webhook mode). Shard status values are not published, so a shard that never leaves `info`
   * must not hold a run forever.
   */
  longSettled?: boolean;
  /** How long the staged count has not moved: past NO_SHARD_QUIET_MS, a chunk that shows no shard counts as never ingested. */
  quietMs?: number;
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
  const chunks = await readChunks(deps.state, run.runId);
  const pending = chunks.filter((c) => c.status === 'written' || c.status === 'submitted');
  if (options.awaitIngestEvents && pending.length > 0) {
    return { state: 'waiting', reason: `${pending.length} of ${chunks.length} ingests still running` };
  }
  if (chunks.length === 0) {
    await endRunFailed(deps, run.runId, 'ingest failed: nothing was submitted');
    return { state: 'failed' };
  }

  // Notifications may come early (an ingest reported finished while its shards still run): only
  // the API says when ingest has ended.
  const progress = await deps.target.ingestProgress(run);
  const broken = progress.shards.filter((s) => s.failed);
  if (broken.length > 0) {
    await endRunFailed(deps, run.runId, `ingest failed: ${broken.length} shard(s) in an error state, e.g. ${broken[0]!.id}: ${broken[0]!.detail}`);
    return { state: 'failed' };
  }
  const failedChunks = chunks.filter((c) => c.status === 'failed');
  const everyChunkFailed = failedChunks.length === chunks.length;
  const reported = await ingestFailureCount(deps.state, run.runId);
  let expected = expectedCount(run, failedChunks, reported);
  const unshown = chunksWithoutShard(chunks, progress);
  const underway = progress.count >= expected || unshown === 0;
  const ingestEnded = hasEnded(progress, underway, options);
  const waiting = (reason: string): AdvanceResult => ({
    state: 'waiting',
    count: progress.count,
    underway,
    reason,
    recheck: options.awaitIngestEvents || undefined,
  });

  if (everyChunkFailed && progress.count === 0) {
    if (!ingestEnded) return waiting('every ingest reported failed; waiting for the API to confirm');
    const detail = failedChunks.map((c) => c.error).filter(Boolean)[0] ?? 'nothing was submitted';
    await endRunFailed(deps, run.runId, `ingest failed: ${detail}`);
    return { state: 'failed' };
  }

  // Per-file failures come from notifications too: the staged names confirm them first.
  if (progress.count < expected || failedChunks.length > 0 || reported > 0) {
    if (!ingestEnded) {
      const shardless = unshown > 0 ? `; ${unshown} ingest(s) show no shard yet` : '';
      return waiting(`${progress.count} of ${expected} items staged${shardless}`);
    }
    expected = await reconcileMissing(deps, run, failedChunks);
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

/**
 * Ingest has ended only once it is underway (or a chunk that shows no shard has had
 * NO_SHARD_QUIET_MS of an unchanged count): then nothing may be running and, when polling, the
 * count must have settled (webhook mode: every chunk has reported already); a count unchanged for
 * long ends it even with a shard still running. An unchanged count alone never ends an ingest
 * that shows no shard: the first shard can take minutes.
 */
function hasEnded(progress: IngestProgress, underway: boolean, options: AdvanceOptions): boolean {
  if (!underway && (options.quietMs ?? 0) < NO_SHARD_QUIET_MS) return false;
  const running = progress.shards.some((s) => s.running);
  const quiet = options.awaitIngestEvents || options.settled === true;
  return (!running && quiet) || options.longSettled === true;
}

async function ingestFailureCount(state: StateStore, runId: string): Promise<number> {
  let count = 0;
  for await (const f of state.failures(runId)) if (f.stage === 'ingest') count++;
  return count;
}

/** Submitted references minus those known to have failed (per file, or with their whole chunk). */
function expectedCount(run: RunRecord, failedChunks: readonly Chunk[], failedFiles: number): number {
  const failedChunkRefs = failedChunks.reduce((n, c) => n + c.references, 0);
  return run.submitted - failedFiles - failedChunkRefs;
}

/**
 * Lists what the target staged, records every other submitted name as a failed file (with the
 * error of its chunk when the whole ingest failed), forgets failures notifications reported for
 * files that are staged after all, and returns how many items are staged.
 */
async function reconcileMissing(deps: ChainDeps, run: RunRecord, failedChunks: readonly Chunk[]): Promise<number> {
  const staged = new Set<string>();
  for await (const page of deps.target.stagedNames(run)) for (const name of page) staged.add(name);
  const known = new Set<string>();
  for await (const f of deps.state.failures(run.runId)) if (f.stage === 'ingest') known.add(f.name);
  const stagedAfterAll = [...known].filter((name) => staged.has(name));
  if (stagedAfterAll.length > 0) {
    await deps.state.forgetFailures(run.runId, 'ingest', stagedAfterAll);
    deps.log.warn('files reported as failed are staged after all', { runId: run.runId, files: stagedAfterAll.length });
    for (const name of stagedAfterAll) known.delete(name);
  }
  const chunkError = failedChunks[0]?.error;
  const missing: FileFailure[] = [];
  for await (const { name, key } of deps.state.names(run.runId)) {
    if (staged.has(name) || known.has(name)) continue;
    missing.push({ name, key, stage: 'ingest', type: 'not-ingested', reason: chunkError ?? 'not in the staged batch after ingest ended' });
  }
  await deps.state.recordFailures(run.runId, missing);
  return staged.size;
}
