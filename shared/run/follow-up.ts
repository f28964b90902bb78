import { advance, type FollowUp } from '../pipeline/chain';
import { exportResults } from '../pipeline/export';
import type { BridgeDeps } from './deps';

/** Runs a webhook's follow-up in this process (CLI, demo): start the job, or export the results. */
export function runFollowUp(deps: BridgeDeps, followUp: FollowUp): Promise<unknown> {
  return followUp.action === 'advance' ? advance(deps, followUp.runId, { awaitIngestEvents: true }) : exportResults(deps, followUp.runId);
}
