import type { PartitionCounts } from '../state/partition-store';
import type { StateStore } from '../state/port';
import type { RunRecord } from '../state/run-record';
import { copySkippedKeys, keepSkippedKey } from './skip-samples';

/** A run listed in partitions: how many it was planned in, and how many of them were submitted whole. */
export interface PartitionsDone {
  total: number;
  done: number;
}

/**
 * A run's listing counts as they stand, and for a run listed in partitions how many are done. A
 * run listed in partitions by separate invocations (the deployed fan-out) keeps each partition's
 * counts in the partition's own item until the join stores their sum in the run record (in place
 * of the record's own, which count nothing before); until then (while the partitions list, or when
 * the run ended before its join) they are summed here the same way, in one streamed pass over the
 * plan's partition items (one per partition: a few thousand at most). Any other run, and a joined
 * one, counts in its record.
 */
export async function listingCounts(state: StateStore, run: RunRecord): Promise<PartitionCounts & { partitions?: PartitionsDone }> {
  const own = { listed: run.listed, skipped: { ...run.skipped }, skippedKeys: copySkippedKeys(run.skippedKeys ?? {}), submitted: run.submitted };
  if (!run.partitions) return own;
  const { plan, total } = run.partitions;
  // The join runs once every partition is done.
  if (run.submissionComplete) return { ...own, partitions: { total, done: total } };
  const counts: PartitionCounts = { listed: 0, skipped: {}, skippedKeys: {}, submitted: 0 };
  let done = 0;
  for await (const partition of state.partitions.list(run.runId, plan)) {
    addCounts(counts, partition.progress.counts);
    if (partition.status === 'done') done++;
  }
  return { ...counts, partitions: { total, done } };
}

/** Adds a partition's counts to the run's (skipped-key samples stay bounded: see skip-samples). */
export function addCounts(into: PartitionCounts, counts: PartitionCounts): void {
  into.listed += counts.listed;
  into.submitted += counts.submitted;
  for (const [reason, n] of Object.entries(counts.skipped)) into.skipped[reason] = (into.skipped[reason] ?? 0) + n;
  for (const [reason, keys] of Object.entries(counts.skippedKeys)) for (const key of keys) keepSkippedKey(into.skippedKeys, reason, key);
}
