import { errorMessage } from '../errors';
import { countPhaseLeft } from '../metrics/run-metrics';
import { endRun, endRunFailed, failRun } from '../pipeline/fail-run';
import { sourcePages } from '../pipeline/partition/source-pages';
import { copySkippedKeys } from '../pipeline/skip-samples';
import type { RunRecord } from '../state/run-record';
import type { ListPage } from '../storage/port';
import type { BridgeDeps } from './deps';
import { submissionSizes, submitPages, type SubmissionCounts, type SubmissionPosition } from './submission-loop';

export { DEFAULT_PAGE_SIZE, ownPrefixes } from './submission-loop';

export interface SubmitOptions {
  /** Objects to consider instead of listing the source prefix (object-created batches). */
  pages?: AsyncIterable<ListPage>;
  /** Asked after each checkpoint; true hands the rest to a fresh invocation. */
  shouldYield?: () => boolean;
}

export type SubmitResult = 'submitted' | 'yielded' | 'failed';

/**
 * Discovers, names, signs and submits the run's objects, resuming from its checkpoint. References
 * files end on listing-page boundaries, and after each submitted file the listing token, counts and
 * next chunk index are stored together: an invocation that stops anywhere is resumed without a gap
 * or a duplicate (a re-submitted file keeps its ingest id, which Roboflow deduplicates).
 */
export async function continueSubmission(deps: BridgeDeps, runId: string, options: SubmitOptions = {}): Promise<SubmitResult> {
  const run = await deps.state.getRun(runId);
  if (!run) throw new Error(`run ${runId} not found`);
  if (run.submissionComplete || run.phase !== 'discovering') return run.phase === 'failed' ? 'failed' : 'submitted';
  try {
    return await submit(deps, run, options);
  } catch (err) {
    const reason = `submission failed: ${errorMessage(err)}`;
    // If the destination cannot take the summary either, the run still ends failed in state.
    await endRunFailed(deps, runId, reason).catch(() => failRun(deps.state, runId, reason, deps.metrics));
    throw err;
  }
}

async function submit(deps: BridgeDeps, run: RunRecord, options: SubmitOptions): Promise<SubmitResult> {
  const { spec } = run;
  const { pageSize } = submissionSizes(deps, spec);
  const outcome = await submitPages(deps, run, {
    pages: options.pages ?? sourcePages(deps, spec, { pageSize, startToken: run.checkpoint.nextToken, concurrency: deps.listConcurrency ?? 1, log: deps.log }),
    counts: { listed: run.listed, skipped: { ...run.skipped }, skippedKeys: copySkippedKeys(run.skippedKeys ?? {}), submitted: run.submitted },
    nextChunk: run.checkpoint.nextChunk,
    checkpoint: (counts, position) => checkpoint(deps, run.runId, counts, position),
    shouldYield: options.shouldYield,
  });
  if (outcome.state === 'yielded') return 'yielded';
  return finishSubmission(deps, run.runId, outcome.counts, outcome.chunks);
}

/**
 * Marks the run's submission complete with its final counts (once: a run already complete keeps
 * what it has), then ends a run that submitted nothing: completed when a ledger says nothing was
 * new (scheduled and object-created runs), failed otherwise. Safe to repeat.
 */
export async function finishSubmission(deps: BridgeDeps, runId: string, counts: SubmissionCounts, chunks: number): Promise<SubmitResult> {
  let finishing = false;
  const run = await deps.state.updateRun(runId, (r) => {
    finishing = !r.submissionComplete && r.phase === 'discovering';
    return finishing
      ? { ...r, ...countsOf(counts), phase: 'ingesting', submissionComplete: true, timings: { ...r.timings, submittedAt: new Date().toISOString() } }
      : r;
  });
  if (finishing) countPhaseLeft(deps.metrics, run, 'discovering', run.timings.submittedAt);
  if (run.phase === 'failed') return 'failed';
  deps.log.info('references submitted', { runId, listed: run.listed, submitted: run.submitted, chunks });
  if (run.submitted > 0) return 'submitted';
  const { spec } = run;
  const where = `${spec.source.bucket}/${spec.source.prefix}`;
  // With a ledger (scheduled and object-created runs), "nothing new since last time" is normal.
  if (deps.ledger) {
    await endRun(deps, runId, 'completed');
    deps.log.info('nothing new to submit', { runId, where });
    return 'submitted';
  }
  await endRunFailed(deps, runId, `nothing to submit: no ${spec.media} found under ${where}`);
  return 'failed';
}

function countsOf(counts: SubmissionCounts): Pick<RunRecord, 'listed' | 'skipped' | 'skippedKeys' | 'submitted'> {
  return { listed: counts.listed, skipped: { ...counts.skipped }, skippedKeys: copySkippedKeys(counts.skippedKeys), submitted: counts.submitted };
}

async function checkpoint(deps: BridgeDeps, runId: string, counts: SubmissionCounts, position: SubmissionPosition): Promise<void> {
  await deps.state.updateRun(runId, (r) => ({ ...r, ...countsOf(counts), checkpoint: position }));
}
