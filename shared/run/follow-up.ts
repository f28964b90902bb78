import { advance, type AdvanceResult, type FollowUp } from '../pipeline/chain';
import { exportResults } from '../pipeline/export';
import type { BridgeDeps } from './deps';

/** Runs a webhook's follow-up in this process (CLI, demo): start the job, or export the results. */
export function runFollowUp(deps: BridgeDeps, followUp: FollowUp): Promise<unknown> {
  return followUp.action === 'advance' ? advanceOnWebhooks(deps, followUp.runId) : exportResults(deps, followUp.runId);
}

/**
 * Starts the job once every ingest has reported. Batches that run from their submission (Extend,
 * LlamaCloud) may all have reported before the run was processing, when their notifications had
 * nothing to act on: their export is tried at once (planning it again later is harmless).
 */
export async function advanceOnWebhooks(deps: BridgeDeps, runId: string): Promise<AdvanceResult> {
  const result = await advance(deps, runId, { awaitIngestEvents: true });
  if (deps.target.processesOnSubmission && (await deps.state.getRun(runId))?.phase === 'processing') await exportResults(deps, runId);
  return result;
}
