import { randomUUID } from 'node:crypto';
import { readChunks, recordSubmitted } from '../state/run-chunks';
import type { RetryPass, RunRecord } from '../state/run-record';
import type { ExportDeps } from './export';
import { OpenChunk } from './ingest';

export interface RetryInput {
  key: string;
  name: string;
}

/** How long one planner holds a retry pass: the export function's timeout. */
export const RETRY_PASS_LEASE_MS = 15 * 60 * 1000;

/**
 * Signs the given inputs again and submits them as extra chunks of the run (inputs the target
 * could not fetch, e.g. because their URLs expired while its batch was queued), at most the
 * target's chunk size each. The run goes back to processing until those chunks are done too;
 * each input is retried once (failures in a retry chunk are final).
 *
 * Planners may run at once (several batches finishing together), so the pass is claimed first and
 * its chunk size fixed; the split is deterministic (inputs sorted by name, chunk indices after the
 * run's own chunks), so a pass cut off half-way is finished by the next claim without resending
 * the chunks already handed on. Returns false when another planner holds the pass.
 */
export async function resubmitInputs(
  deps: ExportDeps & { source: NonNullable<ExportDeps['source']> },
  run: RunRecord,
  inputs: RetryInput[],
  now = Date.now(),
): Promise<boolean> {
  const pass = await claimRetryPass(deps, run, now);
  if (!pass) return false;
  try {
    return await submitRetryChunks(deps, run.runId, inputs, pass);
  } catch (err) {
    // A planner that fails (rather than dies) lets the next delivery take the pass over at once.
    const lapsed = new Date(0).toISOString();
    await deps.state
      .updateRun(run.runId, (r) => (r.retryPass?.owner === pass.owner ? { ...r, retryPass: { ...pass, claimedUntil: lapsed } } : r))
      .catch(() => undefined);
    throw err;
  }
}

/** Submits the pass's chunks not yet handed on; false when the claim was lost meanwhile (or the run ended). */
async function submitRetryChunks(deps: ExportDeps & { source: NonNullable<ExportDeps['source']> }, runId: string, inputs: RetryInput[], pass: RetryPass): Promise<boolean> {
  const claimed = (await deps.state.getRun(runId))!;
  const chunks = await readChunks(deps.state, runId);
  const sorted = [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const base = chunks.filter((c) => !c.retry).reduce((max, c) => Math.max(max, c.index), -1) + 1;
  let sent = 0;
  for (let start = 0, index = base; start < sorted.length; start += pass.chunkSize, index++) {
    if (chunks.some((c) => c.index === index && c.retry && c.status !== 'written')) continue;
    const chunk = new OpenChunk({ ...deps, source: deps.source }, claimed, index, { recordNames: false, retry: true });
    await chunk.add(sorted.slice(start, start + pass.chunkSize).map(({ key }) => ({ key, size: 0 })));
    await recordSubmitted(deps.state, runId, await chunk.submit());
    sent++;
  }
  // A run ended meanwhile (e.g. another message gave up) stays ended; a claim taken over is the new owner's to finish.
  const finished = await deps.state.updateRun(runId, (r) =>
    r.phase === 'exporting' && r.retryPass?.owner === pass.owner ? { ...r, phase: 'processing', exportTasks: undefined, retried: true, retryPass: undefined } : r,
  );
  deps.log.warn('inputs the target could not fetch were signed and submitted again', { runId, inputs: inputs.length, chunks: sent });
  return finished.retried && finished.phase === 'processing';
}

/** Takes the run's retry pass unless it is done, the run is no longer exporting, or another planner's claim still runs. */
export async function claimRetryPass(deps: ExportDeps, run: RunRecord, now: number): Promise<RetryPass | undefined> {
  const limit = deps.target.maxPerChunk(run.spec.media);
  const owner = randomUUID();
  let claim: RetryPass | undefined;
  await deps.state.updateRun(run.runId, (r) => {
    claim = undefined;
    if (r.retryPass?.owner === owner) {
      claim = r.retryPass; // our own write, applied although its answer was lost
      return r;
    }
    if (r.retried || r.phase !== 'exporting' || (r.retryPass && Date.parse(r.retryPass.claimedUntil) > now)) return r;
    claim = {
      chunkSize: r.retryPass?.chunkSize ?? Math.min(deps.chunkSize ?? limit, limit),
      claimedUntil: new Date(now + RETRY_PASS_LEASE_MS).toISOString(),
      owner,
    };
    return { ...r, retryPass: claim };
  });
  return claim;
}
