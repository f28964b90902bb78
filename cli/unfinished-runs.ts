import type { Logger } from '../shared/log';
import type { FileStateStore } from '../shared/state/file-state';
import type { OwnerFiles } from '../shared/state/owner-files';
import { ownerState, type OwnerState } from '../shared/state/run-owner';
import type { RunRecord, RunSpec } from '../shared/state/run-record';
import { localProbe } from './run-ownership';

export interface UnfinishedRun {
  run: RunRecord;
  /** Undefined for runs from before owners were recorded. */
  owner?: OwnerState;
}

const sameSource = (a: RunSpec, b: RunSpec) =>
  a.source.scheme === b.source.scheme && a.source.bucket === b.source.bucket && a.source.prefix === b.source.prefix && a.target.name === b.target.name;

/** Runs of this state folder over the same source and target that have not ended. */
export async function unfinishedRunsOf(state: FileStateStore, owners: OwnerFiles, spec: RunSpec): Promise<UnfinishedRun[]> {
  const found: UnfinishedRun[] = [];
  for (const runId of await state.runIds()) {
    const run = await state.getRun(runId).catch(() => undefined);
    if (!run || run.phase === 'completed' || run.phase === 'failed' || !sameSource(run.spec, spec)) continue;
    const owner = await owners.get(runId).catch(() => undefined);
    found.push({ run, owner: owner && ownerState(owner, localProbe()) });
  }
  return found;
}

/**
 * A new run of a source whose earlier run never finished submits everything again as a new batch
 * and job, leaving the earlier ingests at the target: say so, and how to go on with the old one.
 */
export async function warnUnfinishedRuns(state: FileStateStore, owners: OwnerFiles, spec: RunSpec, log: Logger): Promise<void> {
  for (const { run, owner } of await unfinishedRunsOf(state, owners, spec)) {
    const driven = owner?.state === 'running';
    log.warn(
      driven
        ? `run ${run.runId} of the same source is still running in another process; this run submits everything again as a new batch`
        : `run ${run.runId} of the same source never finished (${run.phase}); continue it with \`bucket-bridge resume ${run.runId}\` instead of submitting everything again`,
      { runId: run.runId, phase: run.phase, submitted: run.submitted, ...(owner && owner.state !== 'running' ? { reason: owner.reason } : {}) },
    );
  }
}
