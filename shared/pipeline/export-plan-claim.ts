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
 * finishes the run), `inactive` when the run is not (or no longer) waiting for its export. A claim lapses after the lease, so a planner that died is taken over.
 */
export async function claimExportPlan(state: StateStore, runId: string, now = Date.now()): Promise<PlanClaim> {
  const owner = randomUUID();
  let claim: PlanClaim = { state: 'busy' };
  await state.updateRun(runId, (r) => {
    if (r.exportPlan?.owner === owner) {
      claim = { state: 'claimed', owner }; // our own write, applied although its answer was lost
      return r;
    }
    if (r.phase !== 'processing' && r.phase !== 'exporting') {
      claim = { state: 'inactive' };
      return r;
    }
    if (r.exportTasks !== undefined) {
      claim = { state: 'planned' };
      return r;
    }
    if (r.exportPlan && Date.parse(r.exportPlan.claimedUntil) > now) {
      claim = { state: 'busy' };
      return r;
    }
    claim = { state: 'claimed', owner };
    return { ...r, exportPlan: { owner, claimedUntil: new Date(now + EXPORT_PLAN_LEASE_MS).toISOString() } };
  });
  return claim;
}

/** Drops the claim if it is still `owner`'s: planned, given up or failed, the next planner may go on at once. */
export async function releaseExportPlan(state: StateStore, runId: string, owner: string): Promise<void> {
  await state.updateRun(runId, (r: RunRecord) => (r.exportPlan?.owner === owner ? { ...r, exportPlan: undefined } : r));
}
