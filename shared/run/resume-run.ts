import type { StateStore } from '../state/port';
import { readChunks } from '../state/run-chunks';
import type { RunRecord } from '../state/run-record';
import type { BridgeDeps } from './deps';
import { continueSubmission } from './submit-run';

export interface ResumedRun {
  run: RunRecord;
  /**
   * Something an earlier process started still has to report (an ingest, or the job): its
   * notifications went to that process's receiver, which is gone, so only polling can see it.
   */
  awaitsEarlierProcess: boolean;
}

const ended = (run: RunRecord) => run.phase === 'completed' || run.phase === 'failed';

/**
 * Takes over an unfinished run where its last process stopped. Submission continues from the
 * checkpoint: the chunk that was being filled is built again under its own index, so it keeps its
 * ingest id (a copy the target already received is recognised as a duplicate) and nothing before
 * the checkpoint is submitted again. An export that was cut off is done again from the start (its
 * files failed with the process, e.g. a destination that refused writes): copies overwrite alike.
 * Waiting, the job start and the export then go on as usual.
 */
export async function resumeRun(deps: BridgeDeps, runId: string): Promise<ResumedRun> {
  const run = await deps.state.getRun(runId);
  if (!run) throw new Error(`run ${runId} not found`);
  if (ended(run)) return { run, awaitsEarlierProcess: false };
  const awaitsEarlierProcess = run.jobStarted || (await readChunks(deps.state, runId)).some((c) => c.status === 'written' || c.status === 'submitted');
  deps.log.info('run resumed', { runId, phase: run.phase, submitted: run.submitted, nextChunk: run.checkpoint.nextChunk });
  if (run.phase === 'discovering') await continueSubmission(deps, runId);
  if (run.phase === 'exporting') await reopenExport(deps.state, runId);
  return { run: (await deps.state.getRun(runId))!, awaitsEarlierProcess };
}

/** Forgets a run's export outcomes so the export runs again (`resume`, `export <jobId>`). */
export async function reopenExport(state: StateStore, runId: string, change: (run: RunRecord) => RunRecord = (r) => r): Promise<void> {
  await state.updateRun(runId, (r) => ({ ...change(r), phase: 'processing', error: undefined, exported: undefined, exportTasks: undefined }));
  await state.resetExport(runId);
}
