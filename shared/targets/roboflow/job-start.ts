import { RemoteError } from '../../errors';
import type { RunRecord } from '../../state/run-record';
import type { JobMetadata } from './api-schemas';
import type { RoboflowClient } from './client';
import type { JobDefinition } from './request-schemas';

/**
 * Starts the run's job so that exactly one exists, on the run's batch. Roboflow documents no answer
 * to a repeated `POST jobs/{id}` (a retry whose first answer was lost, a replayed start), so
 * whatever it answers is checked with `GET jobs/{id}`: our job on our batch means carry on. Only a
 * job that does not exist after a refused POST, or one on another batch, fails the start.
 */
export async function startJobOnce(client: RoboflowClient, run: RunRecord, definition: JobDefinition): Promise<void> {
  let refusal: RemoteError | undefined;
  try {
    await client.startJob(run.jobId, definition, run.runId);
  } catch (err) {
    // A refused key fails every call alike: nothing to confirm.
    if (!(err instanceof RemoteError) || err.status === 401) throw err;
    refusal = err;
  }
  let job: JobMetadata | undefined;
  try {
    job = await existingJob(client, run.jobId);
  } catch (err) {
    // An accepted start is not undone by a failed check: every outcome check reads the job again.
    if (refusal) throw refusal;
    return;
  }
  if (!job) {
    if (refusal) throw refusal;
    return; // accepted but not listed yet: the outcome checks find it
  }
  const mismatch = otherBatchError(job, run);
  if (mismatch) throw new Error(refusal ? `${mismatch.message} (starting it answered: ${refusal.message})` : mismatch.message);
}

/** The error for a job that reads another batch than the run's; undefined when it is the run's (or unknown). */
export function otherBatchError(job: JobMetadata, run: Pick<RunRecord, 'jobId' | 'batchId'>): Error | undefined {
  const batchId = inputBatchOf(job);
  if (batchId === undefined || batchId === run.batchId) return undefined;
  return new Error(`job ${run.jobId} already exists at Roboflow on batch ${batchId}, not on this run's batch ${run.batchId}`);
}

async function existingJob(client: RoboflowClient, jobId: string): Promise<JobMetadata | undefined> {
  try {
    return await client.jobMetadata(jobId);
  } catch (err) {
    if (err instanceof RemoteError && err.status === 404) return undefined;
    throw err;
  }
}

/** The input batch a job reads, from its definition as Roboflow returns it (undefined if absent). */
function inputBatchOf(job: JobMetadata): string | undefined {
  const definition = job.jobDefinition as { jobInput?: { batchId?: unknown } } | null | undefined;
  const batchId = definition?.jobInput?.batchId;
  return typeof batchId === 'string' ? batchId : undefined;
}
