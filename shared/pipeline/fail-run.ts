import type { StateStore } from '../state/port';
import type { ObjectStore } from '../storage/port';
import { writeSummary } from './summary';

/** Marks a run failed with a reason, unless it already finished. */
export async function failRun(state: StateStore, runId: string, reason: string): Promise<void> {
  await state.updateRun(runId, (r) =>
    r.phase === 'completed' || r.phase === 'failed'
      ? r
      : { ...r, phase: 'failed', error: reason, timings: { ...r.timings, finishedAt: new Date().toISOString() } },
  );
}

/** Fails the run and leaves summary.json / failed.jsonl in its destination folder. */
export async function endRunFailed(deps: { state: StateStore; dest: ObjectStore }, runId: string, reason: string): Promise<void> {
  await failRun(deps.state, runId, reason);
  await writeSummary(deps.dest, deps.state, runId);
}
