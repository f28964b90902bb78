import { z } from 'zod';
import { RemoteText } from '../../scrub-secrets';

// Extend API (version 2026-02-09) responses the bridge reads; unknown fields are tolerated.

export const ProcessorKind = z.enum(['extract', 'classify', 'split']);
export type ProcessorKind = z.infer<typeof ProcessorKind>;

export const BatchStatus = z.string(); // PENDING | PROCESSING | PROCESSED | FAILED | CANCELLED (tolerate new ones)

export const BatchRun = z.object({
  object: z.literal('batch_run').optional(),
  id: z.string(),
  status: BatchStatus,
  runCount: z.number().int().optional(),
  createdAt: z.string().optional(),
});
export type BatchRun = z.infer<typeof BatchRun>;

const RunCommon = {
  id: z.string(),
  status: z.string(),
  /** Both scrubbed of secrets and bounded as they are parsed: a message may quote the input's signed URL. */
  failureReason: RemoteText.nullish(),
  failureMessage: RemoteText.nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  file: z.object({ id: z.string().optional(), name: z.string().nullish() }).passthrough().nullish(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
};

export const RunSummary = z.object({ object: z.string().optional(), ...RunCommon });
export type RunSummary = z.infer<typeof RunSummary>;

export const RunList = z.object({ data: z.array(RunSummary), nextPageToken: z.string().nullish() });

/** A full run: the summary plus its output (shape depends on the processor kind). */
export const FullRun = z.object({ object: z.string().optional(), ...RunCommon, output: z.unknown().optional() });
export type FullRun = z.infer<typeof FullRun>;

export const BatchInput = z.object({
  file: z.object({ url: z.string().url(), name: z.string().optional() }),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type BatchInput = z.infer<typeof BatchInput>;
