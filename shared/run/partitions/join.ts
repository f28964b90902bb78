import { addCounts } from '../../pipeline/listing-counts';
import type { PartitionProgress, PartitionRef } from '../../state/partition-store';
import type { BridgeDeps } from '../deps';
import type { ServerlessPorts } from '../serverless-ports';
import type { SubmissionCounts } from '../submission-loop';
import { finishSubmission } from '../submit-run';

/**
 * Completes one partition and joins the run's partitions when it was the last one. Completing is
 * one conditional write (done once; a retry or a duplicate worker keeps the first), and the done
 * count is read back from the items, so whoever sees it reach the total, even a retry whose first
 * completion's answer was lost, joins. Joining marks the submission complete once (see
 * finishSubmission: a run already complete is left as it is) and queues the job start, which is
 * idempotent too: a second join changes nothing.
 */
export async function completePartition(ports: ServerlessPorts, deps: BridgeDeps, ref: PartitionRef, total: number, progress: PartitionProgress) {
  const { done } = await ports.state.partitions.complete(ref, progress);
  ports.log.info('partition submitted', { runId: ref.runId, partition: ref.index, done, total, submitted: progress.counts.submitted });
  if (done >= total) await joinPartitions(ports, deps, ref.runId, ref.plan);
}

/** Sums the partitions' counts into the run, marks its submission complete and asks for the job start; safe to repeat. */
export async function joinPartitions(ports: ServerlessPorts, deps: BridgeDeps, runId: string, plan: string): Promise<void> {
  const counts: SubmissionCounts = { listed: 0, skipped: {}, skippedKeys: {}, submitted: 0 };
  let chunks = 0;
  for await (const partition of ports.state.partitions.list(runId, plan)) {
    if (partition.status !== 'done') throw new Error(`run ${runId}: joining partitions while partition ${partition.index} is not done`);
    addCounts(counts, partition.progress.counts);
    chunks += partition.progress.nextChunk;
  }
  const result = await finishSubmission(deps, runId, counts, chunks);
  // As after a sequential listing: ingest notifications may all have arrived already.
  if (result === 'submitted') await ports.queues.startJob.send([{ kind: 'advance', runId }]);
}
