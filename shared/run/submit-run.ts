import { errorMessage } from '../errors';
import { discover, type DiscoveredPage, type SkipReason } from '../pipeline/discover';
import { endRun, endRunFailed, failRun } from '../pipeline/fail-run';
import { sourcePages } from '../pipeline/partition/source-pages';
import { copySkippedKeys, keepSkippedKey } from '../pipeline/skip-samples';
import { recordSubmitted } from '../state/run-chunks';
import type { Chunk, RunRecord, RunSpec } from '../state/run-record';
import type { ListPage, StoredObject } from '../storage/port';
import type { BridgeDeps } from './deps';
import { IngestChoice, PendingChunk } from './pending-chunk';

export const DEFAULT_PAGE_SIZE = 1000;

/** Prefixes of the source bucket the bridge itself writes to. */
export function ownPrefixes(spec: RunSpec): string[] {
  const prefixes = [spec.manifestPrefix];
  if (spec.dest.scheme === spec.source.scheme && spec.dest.bucket === spec.source.bucket) prefixes.push(spec.dest.prefix);
  return prefixes;
}

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
    await endRunFailed(deps, runId, reason).catch(() => failRun(deps.state, runId, reason));
    throw err;
  }
}

async function submit(deps: BridgeDeps, run: RunRecord, options: SubmitOptions): Promise<SubmitResult> {
  const { spec } = run;
  const limit = deps.target.maxPerChunk(spec.media);
  const chunkSize = Math.min(deps.chunkSize ?? limit, limit);
  // A page never overflows a references file, so files can end on page boundaries.
  const pageSize = Math.min(deps.pageSize ?? DEFAULT_PAGE_SIZE, chunkSize);
  const pages = discover(options.pages ?? sourcePages(deps, spec, { pageSize, startToken: run.checkpoint.nextToken, concurrency: deps.listConcurrency ?? 1, log: deps.log }), {
    media: spec.media,
    maxBytes: deps.target.maxObjectBytes(spec.media),
    excludePrefixes: ownPrefixes(spec),
    alreadySubmitted: deps.ledger ? (objects) => deps.ledger!.submitted(deps.source.bucket, objects) : undefined,
  });

  const counts: Counts = {
    listed: run.listed,
    skipped: { ...run.skipped },
    skippedKeys: copySkippedKeys(run.skippedKeys ?? {}),
    submitted: run.submitted,
  };
  let nextChunk = run.checkpoint.nextChunk;
  const ingest = new IngestChoice(deps, run);
  let open: PendingChunk | undefined;

  for await (const page of pages) {
    const accepted = tally(deps, page, counts);
    if (accepted.length > 0) {
      open ??= new PendingChunk(deps, run, nextChunk, ingest);
      await open.add(accepted);
    }
    const last = page.nextToken === undefined;
    if (open && (last || open.lines + pageSize > chunkSize)) {
      const chunk = await open.submit(options.shouldYield);
      // An upload that yielded mid-chunk: the next invocation lists the chunk again and sends the rest.
      if (!chunk) return 'yielded';
      await deps.ledger?.record(deps.source.bucket, open.objects, run.runId);
      counts.submitted += chunk.references;
      nextChunk++;
      open = undefined;
      await checkpoint(deps, run.runId, counts, { nextToken: page.nextToken, nextChunk }, chunk);
    } else if (!open) {
      await checkpoint(deps, run.runId, counts, { nextToken: page.nextToken, nextChunk });
    }
    if (!open && !last && options.shouldYield?.()) return 'yielded';
  }
  if (open) throw new Error('listing ended without a final page');

  await deps.state.updateRun(run.runId, (r) => ({
    ...r,
    phase: 'ingesting',
    submissionComplete: true,
    timings: { ...r.timings, submittedAt: new Date().toISOString() },
  }));
  deps.log.info('references submitted', { runId: run.runId, listed: counts.listed, submitted: counts.submitted, chunks: nextChunk });
  if (counts.submitted === 0) {
    const where = `${spec.source.bucket}/${spec.source.prefix}`;
    // With a ledger (scheduled and object-created runs), "nothing new since last time" is normal.
    if (deps.ledger) {
      await endRun(deps, run.runId, 'completed');
      deps.log.info('nothing new to submit', { runId: run.runId, where });
      return 'submitted';
    }
    await endRunFailed(deps, run.runId, `nothing to submit: no ${spec.media} found under ${where}`);
    return 'failed';
  }
  return 'submitted';
}

type Counts = Pick<RunRecord, 'listed' | 'skipped' | 'submitted'> & { skippedKeys: Record<string, string[]> };

function tally(deps: BridgeDeps, page: DiscoveredPage, counts: Counts): StoredObject[] {
  const accepted: StoredObject[] = [];
  for (const item of page.items) {
    if ('accepted' in item) {
      accepted.push(item.accepted);
      continue;
    }
    const reason: SkipReason = item.reason;
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) + 1;
    keepSkippedKey(counts.skippedKeys, reason, item.skipped.key);
    if (reason === 'too-large') deps.log.warn('object over the target\'s size limit skipped', { key: item.skipped.key, bytes: item.skipped.size });
  }
  counts.listed += page.items.length;
  deps.progress('listed', page.items.length);
  return accepted;
}

async function checkpoint(
  deps: BridgeDeps,
  runId: string,
  counts: Counts,
  position: RunRecord['checkpoint'],
  chunk?: Chunk,
): Promise<void> {
  // The chunk first: a checkpoint never passes a chunk whose submission is not recorded.
  if (chunk) await recordSubmitted(deps.state, runId, chunk);
  await deps.state.updateRun(runId, (r) => ({
    ...r,
    ...counts,
    skipped: { ...counts.skipped },
    skippedKeys: copySkippedKeys(counts.skippedKeys),
    checkpoint: position,
  }));
}
