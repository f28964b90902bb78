import { z } from 'zod';
import { ExportTaskOrder } from '../state/export-order';

// Bodies of the bridge's own queue messages (SQS between the functions).

/** `submissions` queue: continue a long listing, or check a source's pending object batch. */
export const SubmissionMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('continue'), runId: z.string() }),
  z.object({ kind: z.literal('flush'), sourceId: z.string() }),
]);
export type SubmissionMessage = z.infer<typeof SubmissionMessage>;

/**
 * `start-job` queue: re-check a run's ingest and start its job when ready. `recheck`: a later look
 * when every notification was in but the API said ingest went on (the staged count it saw then, how
 * many looks in a row it has not moved, and how many of those found the ingest underway: every
 * ingest showing a shard, or the count complete).
 */
export const StartJobMessage = z.object({
  kind: z.literal('advance'),
  runId: z.string(),
  recheck: z
    .object({
      lastCount: z.number().int().nonnegative().optional(),
      unchanged: z.number().int().nonnegative(),
      settling: z.number().int().nonnegative().default(0),
    })
    .optional(),
});
export type StartJobMessage = z.infer<typeof StartJobMessage>;

export const ExportTaskMessage = z.object({
  taskId: z.string(),
  part: z.string(),
  fileName: z.string(),
  failed: z
    .object({ type: z.string(), reason: z.string(), retryInput: z.object({ key: z.string(), name: z.string() }).optional() })
    .optional(),
  locator: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('url'), url: z.string().url() }),
    z.object({ kind: z.literal('api'), ref: z.string() }),
  ]),
  /** Absent on messages sent before tasks were numbered (they still work: see StateStore.recordExportTask). */
  order: ExportTaskOrder.optional(),
});

/** `export` queue: plan a run's export, or copy one of its result files. */
export const ExportMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('plan'), runId: z.string() }),
  /**
   * `handedOn`: an earlier invocation ran out of time for this copy and handed it on; `resume`: the
   * archive's first `members` members (`bytes` in all) are stored already.
   */
  z.object({
    kind: z.literal('copy'),
    runId: z.string(),
    task: ExportTaskMessage,
    handedOn: z.boolean().optional(),
    resume: z.object({ members: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }).optional(),
  }),
]);
export type ExportMessage = z.infer<typeof ExportMessage>;

/**
 * `partitions` queue (deployed fan-out): list, sign and submit one partition of a run's sealed
 * plan (its descriptor and progress are in the partition's state item, so a message stays small
 * whatever the partition holds); or `sweep` the run: send again the messages of partitions not
 * done whose holder's lease lapsed or that nobody claimed, and join them if all are done.
 * `round` counts the sweeps, which stop at a bound.
 */
export const PartitionMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('partition'), runId: z.string(), plan: z.string(), partition: z.number().int().nonnegative() }),
  z.object({ kind: z.literal('sweep'), runId: z.string(), plan: z.string(), round: z.number().int().nonnegative() }),
]);
export type PartitionMessage = z.infer<typeof PartitionMessage>;
