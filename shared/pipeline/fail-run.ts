import { errorMessage } from '../errors';
import type { Logger } from '../log';
import { countRunEnded } from '../metrics/run-metrics';
import type { Metrics } from '../metrics/port';
import { writeReport } from '../report/write-report';
import type { StateStore } from '../state/port';
import type { ObjectStore } from '../storage/port';
import { writeSummary } from './summary';

import type { RunRecord } from '../state/run-record';

type EndDeps = { state: StateStore; dest: ObjectStore; log: Logger; metrics?: Metrics };

const isFinished = (r: RunRecord) => r.phase === 'completed' || r.phase === 'failed';

/** The run as it looks once it ended: phase, outcome and finish time. */
export function finished(run: RunRecord, phase: 'completed' | 'failed', error?: string): RunRecord {
  return { ...run, phase, error, timings: { ...run.timings, finishedAt: new Date().toISOString() } };
}

/**
 * Ends a run: writes summary.json / failed.jsonl and report.html for the final record, then stores
 * it. A run that already ended is left alone. The report is for people: a report that cannot be
 * written is a warning, while the summary is the run's outcome.
 */
export async function endRun(deps: EndDeps, runId: string, phase: 'completed' | 'failed', error?: string) {
  const current = await deps.state.getRun(runId);
  if (!current || isFinished(current)) return;
  const final = finished(current, phase, error);
  const summary = await writeSummary(deps.dest, deps.state, final);
  await writeReport(deps.dest, deps.state, final, summary).catch((err) => deps.log.warn('run report not written', { runId, error: errorMessage(err) }));
  let ended = false;
  await deps.state.updateRun(runId, (r) => {
    ended = !isFinished(r);
    return ended ? { ...r, phase: final.phase, error: final.error, timings: final.timings } : r;
  });
  // Counted by the call that ended it (another may have ended it meanwhile).
  if (ended) countRunEnded(deps.metrics, final, current.phase, summary);
  // The log line for people (with the reason); the alarms count the RunsFailed metric above.
  if (phase === 'failed') deps.log.error('run failed', { runId, error });
  else deps.log.info('run completed', { runId });
}

/** Fails the run with a reason and leaves its summary in the destination. */
export function endRunFailed(deps: EndDeps, runId: string, reason: string): Promise<void> {
  return endRun(deps, runId, 'failed', reason);
}

/**
 * Marks a run failed in state only (when its destination cannot be written). The call that ends
 * it counts RunsFailed, so the alarm sees a run that ended this way too.
 */
export async function failRun(state: StateStore, runId: string, reason: string, metrics?: Metrics): Promise<void> {
  let ended: RunRecord | undefined;
  await state.updateRun(runId, (r) => {
    ended = isFinished(r) ? undefined : finished(r, 'failed', reason);
    return ended ?? r;
  });
  if (ended) metrics?.add('RunsFailed', 1, { Target: ended.spec.target.name }, runId);
}
