import { discover, type DiscoveredPage, type SkipReason } from '../pipeline/discover';
import { keepSkippedKey } from '../pipeline/skip-samples';
import type { PartitionCounts } from '../state/partition-store';
import { recordSubmitted } from '../state/run-chunks';
import type { RunRecord, RunSpec } from '../state/run-record';
import type { ListPage, StoredObject } from '../storage/port';
import type { BridgeDeps } from './deps';
import { IngestChoice, PendingChunk } from './pending-chunk';

export const DEFAULT_PAGE_SIZE = 1000;

/** What a listing has counted so far: a run's whole source, or one partition of it (as a partition item keeps it). */
export type SubmissionCounts = PartitionCounts;

/** Where a listing stands after a page: the listing's position after it (absent after the last page) and the next chunk. */
export interface SubmissionPosition {
  nextToken?: string;
  nextChunk: number;
}

export interface PagesToSubmit {
  /** Listing pages, each with the position after it (`nextToken`; absent on the last page). */
  pages: AsyncIterable<ListPage>;
  /** Counts so far (a resumed listing's), added to as pages are read. */
  counts: SubmissionCounts;
  /** Number of the next chunk of this listing. */
  nextChunk: number;
  /** The run's chunk index of this listing's chunk `n` (a partition's chunks have a range of their own). */
  chunkIndex?: (n: number) => number;
  /**
   * Stores the counts and the position: after each submitted references file (whose chunk is
   * recorded before), and after each page that leaves no file open.
   */
  checkpoint(counts: SubmissionCounts, position: SubmissionPosition): Promise<void>;
  /** Asked after each checkpoint; true hands the rest to a fresh invocation. */
  shouldYield?: () => boolean;
}

export type PagesOutcome = { state: 'yielded' } | { state: 'listed'; counts: SubmissionCounts; chunks: number };

/** Lines per references file and objects per listing page for a run's target and media. */
export function submissionSizes(deps: BridgeDeps, spec: RunSpec): { chunkSize: number; pageSize: number } {
  const limit = deps.target.maxPerChunk(spec.media);
  const chunkSize = Math.min(deps.chunkSize ?? limit, limit);
  // A page never overflows a references file, so files can end on page boundaries.
  return { chunkSize, pageSize: Math.min(deps.pageSize ?? DEFAULT_PAGE_SIZE, chunkSize) };
}

/** Prefixes of the source bucket the bridge itself writes to. */
export function ownPrefixes(spec: RunSpec): string[] {
  const prefixes = [spec.manifestPrefix];
  if (spec.dest.scheme === spec.source.scheme && spec.dest.bucket === spec.source.bucket) prefixes.push(spec.dest.prefix);
  return prefixes;
}

/**
 * Discovers, names, signs and submits the objects of a listing (a run's source, or one partition
 * of it). References files end on listing-page boundaries, and after each submitted file its chunk
 * is recorded and then the position, counts and next chunk are checkpointed: an invocation that
 * stops anywhere is resumed from the checkpoint without a gap or a duplicate (a re-submitted file
 * keeps its ingest id, which the target deduplicates).
 */
export async function submitPages(deps: BridgeDeps, run: RunRecord, input: PagesToSubmit): Promise<PagesOutcome> {
  const { spec } = run;
  const { chunkSize, pageSize } = submissionSizes(deps, spec);
  const pages = discover(input.pages, {
    media: spec.media,
    maxBytes: deps.target.maxObjectBytes(spec.media),
    excludePrefixes: ownPrefixes(spec),
    alreadySubmitted: deps.ledger ? (objects) => deps.ledger!.submitted(deps.source.bucket, objects) : undefined,
  });
  const chunkIndex = input.chunkIndex ?? ((n: number) => n);
  const counts = input.counts;
  let nextChunk = input.nextChunk;
  const ingest = new IngestChoice(deps, run);
  let open: PendingChunk | undefined;

  for await (const page of pages) {
    const accepted = tally(deps, page, counts);
    if (accepted.length > 0) {
      open ??= new PendingChunk(deps, run, chunkIndex(nextChunk), ingest);
      await open.add(accepted);
    }
    const last = page.nextToken === undefined;
    if (open && (last || open.lines + pageSize > chunkSize)) {
      const chunk = await open.submit(input.shouldYield);
      // An upload that yielded mid-chunk: the next invocation lists the chunk again and sends the rest.
      if (!chunk) return { state: 'yielded' };
      await deps.ledger?.record(deps.source.bucket, open.objects, run.runId);
      counts.submitted += chunk.references;
      nextChunk++;
      open = undefined;
      // The chunk first: a checkpoint never passes a chunk whose submission is not recorded.
      await recordSubmitted(deps.state, run.runId, chunk);
      await input.checkpoint(counts, { nextToken: page.nextToken, nextChunk });
    } else if (!open) {
      await input.checkpoint(counts, { nextToken: page.nextToken, nextChunk });
    }
    if (!open && !last && input.shouldYield?.()) return { state: 'yielded' };
  }
  if (open) throw new Error('listing ended without a final page');
  return { state: 'listed', counts, chunks: nextChunk };
}

function tally(deps: BridgeDeps, page: DiscoveredPage, counts: SubmissionCounts): StoredObject[] {
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
