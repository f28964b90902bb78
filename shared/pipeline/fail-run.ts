import type { StateStore } from '../state/port';

/** Marks a run failed with a reason, unless it already finished. */
export async function failRun(state: StateStore, runId: string, reason: string): Promise<void> {
  await state.updateRun(runId, (r) =>
    r.phase === 'completed' || r.phase === 'failed'
      ? r
      : { ...r, phase: 'failed', error: reason, timings: { ...r.timings, finishedAt: new Date().toISOString() } },
  );
}
