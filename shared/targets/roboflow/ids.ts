import { createHash } from 'node:crypto';
import { z } from 'zod';

export const BatchId = z.string().regex(/^[a-z0-9_-]{1,64}$/, 'lowercase letters, digits, - and _, at most 64 characters');
export const JobId = z.string().regex(/^[a-z0-9_-]{1,20}$/, 'lowercase letters, digits, - and _, at most 20 characters');

/** Workspace slugs and workflow ids are path segments: keep them to URL-safe slug characters. */
export const Slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, 'letters, digits, - and _ (a Roboflow slug)');

/** Input batch of a run: readable and within Roboflow's 64 characters. */
export function batchIdFor(runId: string): string {
  return BatchId.parse(`bb-${runId}`.slice(0, 64));
}

/**
 * Job id of a run: a hash of the batch id, so a replayed start reuses the same id and lands on
 * Roboflow's idempotent path (or a 409) instead of creating a second job.
 */
export function jobIdFor(batchId: string): string {
  const digest = createHash('sha256').update(batchId).digest('hex');
  return JobId.parse(`bb-${digest.slice(0, 17)}`);
}

/** Distinct, deterministic ingest id per references chunk. */
export function ingestIdFor(batchId: string, chunkIndex: number): string {
  return `${batchId}-${chunkIndex}`;
}
