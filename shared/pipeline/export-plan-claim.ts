import { randomUUID } from 'node:crypto';
import type { StateStore } from '../state/port';
import type { RunRecord } from '../state/run-record';

/** How long one planner holds a run's export planning: the export function's timeout (15 minutes). */
export const EXPORT_PLAN_LEASE_MS = 15 * 60 * 1000;

export type PlanClaim = { state: 'claimed'; owner: string } | { state: 'planned' | 'busy' | 'inactive' };

/**
 * Takes the planning of a run's export (listing its output and handing on one copy per file), so
 * planners running at once (duplicate plan messages, several notifications) plan it once: `busy`
 * while another planner's claim lasts, `planned` once the tasks are known (planning again only
 * finishes the run), `inactive` when the run is not (or no longer) waiting for its export. A claim
 * lapses after the lease, so a planner that died is taken over.
 */
export async function claimExportPlan(state: StateStore, runId: string, now = Date.now()): Promise<PlanClaim> {
  const owner = randomUUID();
  const current = await state.getRun(runId);
  if (!current) return { state: 'inactive' };
  // Nothing to take: answered without a write (a run that ended is not touched).
  const first = decide(current, owner, now);
  if (first.claim.state !== 'claimed') return first.claim;
  let claim: PlanClaim = { state: 'busy' };
  await state.updateRun(runId, (r) => {
    const decided = decide(r, owner, now);
    claim = decided.claim;
    return decided.next ?? r;
  });
  return claim;
}

function decide(r: RunRecord, owner: string, now: number): { claim: PlanClaim; next?: RunRecord } {
  // Our own write, applied although its answer was lost.
  if (r.exportPlan?.owner === owner) return { claim: { state: 'claimed', owner } };
  if (r.phase !== 'processing' && r.phase !== 'exporting') return { claim: { state: 'inactive' } };
  if (r.exportTasks !== undefined) return { claim: { state: 'planned' } };
  if (r.exportPlan && Date.parse(r.exportPlan.claimedUntil) > now) return { claim: { state: 'busy' } };
  return { claim: { state: 'claimed', owner }, next: { ...r, exportPlan: { owner, claimedUntil: new Date(now + EXPORT_PLAN_LEASE_MS).toISOString() } } };
}

/** Drops the claim if it is still `owner`'s: planned, given up or failed, the next planner may go on at once. */
export async function releaseExportPlan(state: StateStore, runId: string, owner: string): Promise<void> {
  if ((await state.getRun(runId))?.exportPlan?.owner !== owner) return;
  await state.updateRun(runId, (r) => (r.exportPlan?.owner === owner ? { ...r, exportPlan: undefined } : r));
}
