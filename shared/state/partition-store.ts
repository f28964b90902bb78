import { z } from 'zod';

/**
 * A run's partition plan, sealed in the run record once every partition item is stored: `plan`
 * names the items (a planner that lost the seal, or died before it, leaves items of another plan
 * id that nothing reads), `total` is how many partitions the join waits for.
 */
export const PartitionPlan = z.object({ plan: z.string().min(1), total: z.number().int().positive() });
export type PartitionPlan = z.infer<typeof PartitionPlan>;

/** What a partition's listing has counted so far (summed into the run at the join). */
export const PartitionCounts = z.object({
  listed: z.number().int().nonnegative(),
  submitted: z.number().int().nonnegative(),
  skipped: z.record(z.string(), z.number().int()),
  /** The first few keys skipped for each reason (see skip-samples). */
  skippedKeys: z.record(z.string(), z.array(z.string())),
});
export type PartitionCounts = z.infer<typeof PartitionCounts>;

/** Where a partition's submission stands: counts, what is left of it to list, the next chunk. */
export const PartitionProgress = z.object({
  counts: PartitionCounts,
  /**
   * The part of the partition not yet in a submitted references file (a descriptor, like the
   * item's: a range after the last key handed on, the objects or inventory rows left); absent:
   * all of it.
   */
  remaining: z.string().optional(),
  /** The partition's next chunk number (0, 1, … within the partition). */
  nextChunk: z.number().int().nonnegative(),
});
export type PartitionProgress = z.infer<typeof PartitionProgress>;

export const EMPTY_PROGRESS: PartitionProgress = { counts: { listed: 0, submitted: 0, skipped: {}, skippedKeys: {} }, nextChunk: 0 };

/** One partition of a run: an item of its own, so the run record stays constant-size. */
export const PartitionRecord = z.object({
  index: z.number().int().nonnegative(),
  /**
   * The partition as the pipeline describes it (JSON of a `Partition`: a key range, objects, an
   * inventory file…), opaque to the state layer.
   */
  descriptor: z.string(),
  status: z.enum(['pending', 'done']),
  progress: PartitionProgress,
  /** The worker holding the partition, until when (epoch ms): copies of its message arriving meanwhile are dropped. */
  lease: z.object({ owner: z.string(), until: z.number() }).optional(),
});
export type PartitionRecord = z.infer<typeof PartitionRecord>;

/** Names one partition item. */
export interface PartitionRef {
  runId: string;
  plan: string;
  index: number;
}

export type PartitionClaim = 'claimed' | 'busy' | 'done';

/**
 * The partition items of runs whose source is listed by several invocations at once (see
 * shared/run/partitions/). Every write is conditional, so duplicate and concurrent workers change
 * a partition once: one holder at a time (a lease), progress only from the holder, done once.
 */
export interface PartitionStore {
  /**
   * Stores a plan's partitions (pending, no lease), overwriting items of the same plan id: nothing
   * reads a plan's items before the plan is sealed in the run record.
   */
  save(runId: string, plan: string, partitions: Array<{ index: number; descriptor: string }>): Promise<void>;
  get(ref: PartitionRef): Promise<PartitionRecord | undefined>;
  /** The plan's partitions in index order. */
  list(runId: string, plan: string): AsyncIterable<PartitionRecord>;
  /**
   * Takes the partition for `owner` until `until` (epoch ms): `claimed` when it was free, its lease
   * had lapsed (before `now`) or `owner` held it; `busy` while another holder's lease lasts;
   * `done` once it was completed. Throws when the partition does not exist.
   */
  claim(ref: PartitionRef, owner: string, until: number, now: number): Promise<PartitionClaim>;
  /** Stores progress while `owner` holds the partition; false (nothing stored) when it no longer does, or it is done. */
  checkpoint(ref: PartitionRef, owner: string, progress: PartitionProgress): Promise<boolean>;
  /** Gives the partition up (if `owner` still holds it), so its next message is taken at once. */
  release(ref: PartitionRef, owner: string): Promise<void>;
  /**
   * Marks the partition done with its final progress, once: a repeat (a retry, a duplicate worker)
   * keeps the first. Returns how many of the plan's partitions are done, counted from the items.
   */
  complete(ref: PartitionRef, progress: PartitionProgress): Promise<{ done: number }>;
  /** Removes the items of a plan (one that was never sealed). */
  discard(runId: string, plan: string): Promise<void>;
}
