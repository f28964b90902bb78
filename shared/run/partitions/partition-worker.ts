import { randomUUID } from 'node:crypto';
import { countDiscovered, discoveryCounts } from '../../metrics/run-metrics';
import { partitionFromDescriptor } from '../../pipeline/partition/descriptor';
import type { PartitionMessage } from '../../runtime/messages';
import type { PartitionRef } from '../../state/partition-store';
import { loadRun } from '../run-deps';
import type { ServerlessPorts } from '../serverless-ports';
import { submissionSizes, submitPages } from '../submission-loop';
import { completePartition, joinPartitions } from './join';
import { NOTHING_LEFT, partitionPages } from './partition-pages';

/**
 * Chunk indexes of partition `p` start at `p × stride`, so every partition's chunks (their
 * references files and ingest ids, `<batchId>-<index>`) are distinct without any coordination:
 * partition 3's third chunk is 3000002. Chunk indexes must fit the 10 digits of a chunk's id
 * (run-chunks.ts), so a plan's partitions share those 10,000,000,000 indexes: a plan of fewer than
 * 10,000 partitions gives each 1,000,000 (as every plan did before larger plans were allowed: a
 * run planned then resumes with the same indexes), a larger one gives each an equal share, with
 * one share left after the last partition for the chunks a retry pass adds (resubmit.ts numbers
 * them after the largest index).
 */
export const PARTITION_CHUNK_STRIDE = 1_000_000;
/** A chunk id holds indexes below this (10 digits). */
const CHUNK_INDEXES = 10_000_000_000;
/**
 * The most partitions one plan may have (an S3 Inventory with more data files is refused before
 * its run exists): each still gets 99,999 chunk indexes, i.e. references files.
 */
export const MAX_PLAN_PARTITIONS = 100_000;

/** Chunk indexes each partition of a plan of `total` partitions gets. */
export function partitionChunkStride(total: number): number {
  if (!Number.isSafeInteger(total) || total < 1 || total > MAX_PLAN_PARTITIONS) {
    throw new Error(`a plan of ${total} partitions: at most ${MAX_PLAN_PARTITIONS} partitions fit the chunk indexes of a run`);
  }
  return total < CHUNK_INDEXES / PARTITION_CHUNK_STRIDE ? PARTITION_CHUNK_STRIDE : Math.floor(CHUNK_INDEXES / (total + 1));
}

/** The run's chunk index of chunk `n` of partition `partition` of `total`; refuses a chunk that would take the next partition's indexes. */
export function partitionChunkIndex(partition: number, n: number, total: number): number {
  const stride = partitionChunkStride(total);
  if (n >= stride) {
    throw new Error(
      `partition ${partition} of ${total} needs more than ${stride} references files: raise referencesPerFile${stride === PARTITION_CHUNK_STRIDE ? ' or discovery.partitions' : ''}`,
    );
  }
  return partition * stride + n;
}

/** A lease outlasts its holder's invocation by this much (the clocks of two invocations may differ a little). */
export const LEASE_MARGIN_MS = 5_000;

/** The invocation a partition is worked on in. */
export interface PartitionInvocation {
  /** Milliseconds the invocation may still run: the lease lasts that long (and a margin), the holder cannot outlive it. */
  remainingMs(): number;
  /** True once the rest should be handed on to a fresh invocation. */
  shouldYield(): boolean;
}

export type PartitionOutcome = 'submitted' | 'handed-on' | 'held-elsewhere' | 'lease-lost' | 'not-applicable';

/** The checkpoint found the lease taken by another worker (this one ran past it): that worker goes on. */
class LeaseLost extends Error {}

/**
 * Lists, signs and submits one partition of a run (the same discover → name → sign → references
 * file → ingest loop as a sequential run, see submission-loop.ts), resuming from the partition's
 * checkpoint, then completes it and joins the run when it was the last. The partition is claimed
 * first: a copy of the message that arrives while another worker holds it is dropped (that worker
 * finishes or hands on; if it dies, its lease lapses and the run's sweep sends the message again).
 * Progress is checkpointed into the partition's item after each references file, only while the
 * lease is held.
 */
export async function submitPartition(
  ports: ServerlessPorts,
  message: Extract<PartitionMessage, { kind: 'partition' }>,
  invocation: PartitionInvocation,
): Promise<PartitionOutcome> {
  const { run, deps } = await loadRun(ports, message.runId);
  if (!deps || run.partitions?.plan !== message.plan) return 'not-applicable';
  // The join marked the submission complete, but its job start may not have been asked for (the
  // joiner died in between, and this is its message again): asking again is harmless.
  if (run.submissionComplete && run.phase === 'ingesting') {
    await joinPartitions(ports, deps, run.runId, message.plan);
    return 'submitted';
  }
  if (run.phase !== 'discovering') return 'not-applicable';
  const ref: PartitionRef = { runId: run.runId, plan: message.plan, index: message.partition };
  const { total } = run.partitions;
  const owner = randomUUID();
  const now = Date.now();
  const claim = await ports.state.partitions.claim(ref, owner, now + invocation.remainingMs() + LEASE_MARGIN_MS, now);
  if (claim === 'busy') {
    ports.log.info('partition held by another worker; message dropped', { runId: ref.runId, partition: ref.index });
    return 'held-elsewhere';
  }
  const record = await ports.state.partitions.get(ref);
  if (!record) throw new Error(`run ${ref.runId}: partition ${ref.index} not found`);
  if (claim === 'done') {
    // A retry after the completion (its answer lost, or the join after it failed): completing
    // again changes nothing, and the join is checked again.
    await completePartition(ports, deps, ref, total, record.progress);
    return 'submitted';
  }

  const { progress } = record;
  const { pageSize } = submissionSizes(deps, run.spec);
  // Counted after each stored checkpoint: a resumed partition counts each object once.
  let counted = discoveryCounts(progress.counts);
  let outcome: Awaited<ReturnType<typeof submitPages>>;
  try {
    outcome = await submitPages(deps, run, {
      pages: partitionPages({ source: deps.source, inventory: deps.inventory }, partitionFromDescriptor(progress.remaining ?? record.descriptor), pageSize),
      counts: progress.counts,
      nextChunk: progress.nextChunk,
      chunkIndex: (n) => partitionChunkIndex(ref.index, n, total),
      checkpoint: async (counts, position) => {
        // After the last page nothing is left: a resumed worker must not list the partition again.
        const stored = await ports.state.partitions.checkpoint(ref, owner, { counts, remaining: position.nextToken ?? NOTHING_LEFT, nextChunk: position.nextChunk });
        if (!stored) throw new LeaseLost();
        countDiscovered(ports.metrics, run, counted, counts);
        counted = discoveryCounts(counts);
      },
      shouldYield: invocation.shouldYield,
    });
  } catch (err) {
    if (err instanceof LeaseLost) {
      ports.log.warn('partition taken over by another worker; this one stops', { runId: ref.runId, partition: ref.index });
      return 'lease-lost';
    }
    // The next delivery of this message (or the sweep) takes the partition at once.
    await ports.state.partitions.release(ref, owner).catch(() => undefined);
    throw err;
  }
  if (outcome.state === 'yielded') {
    await ports.state.partitions.release(ref, owner);
    await ports.queues.partitions.send([message]);
    return 'handed-on';
  }
  await completePartition(ports, deps, ref, total, { counts: outcome.counts, nextChunk: outcome.chunks, remaining: NOTHING_LEFT });
  return 'submitted';
}
