import { TaskPool } from '../concurrency';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { ProgressListener } from '../progress';
import { KeyedLock } from '../run-lock';
import type { StateStore } from '../state/port';
import { readChunks } from '../state/run-chunks';
import { exportPass, type ExportTaskOrder } from '../state/export-order';
import type { ExportTaskResult, RunRecord } from '../state/run-record';
import type { ObjectStore } from '../storage/port';
import type { BatchTarget, OutputLocator, ResultFailure } from '../targets/port';
import { writeResultsByKey } from '../results/results-by-key';
import { combineJsonResults } from './combine-results';
import { copyResultFile, type CopyJob, type CopyResume, type HandOn } from './copy-result';
import { exportLimits, type ExportLimits } from './export-limits';
import { endRun, endRunFailed } from './fail-run';
import { resubmitInputs, type RetryInput } from './resubmit';
import { safeRelativePath } from './safe-path';

export interface ExportDeps {
  dest: ObjectStore;
  /** The run's source: needed only to re-sign inputs the target could not fetch. */
  source?: ObjectStore;
  /** Objects per chunk when such inputs are submitted again (at most the target's limit). */
  chunkSize?: number;
  state: StateStore;
  target: BatchTarget;
  log: Logger;
  progress: ProgressListener;
  /** Caps on archives and the copy deadline (see export-limits); unset ones take their defaults. */
  exportLimits?: Partial<ExportLimits>;
}

/** One result file to copy: the unit of export work (one queue message when deployed). */
export interface ExportTask {
  taskId: string;
  part: string;
  fileName: string;
  /** The target reported this result as failed: it is recorded, not copied. */
  failed?: ResultFailure;
  /** Where the bytes come from (a signed URL is a credential: never logged). */
  locator: OutputLocator;
  /** Its place in the plan (absent on tasks planned before tasks were numbered). */
  order?: ExportTaskOrder;
}

export type ExportResult = 'pending' | 'exporting' | 'completed' | 'failed' | 'not-applicable';

const isActive = (run: RunRecord) => run.phase === 'processing' || run.phase === 'exporting';

/** Folder of a run's results in the destination: `<dest prefix><runId>/`. */
export function runFolder(run: RunRecord): string {
  return `${run.spec.dest.prefix}${run.runId}/`;
}

/**
 * Confirms the job through the API (never from a webhook alone) and, once it succeeded, lists
 * every output file of the export stage, page by page, handing each page to `sink` as tasks.
 * Records how many tasks there are, then finishes the run if they are all done already.
 * Planning again (a replayed message) lists the same tasks, whose outcomes count once.
 */
export async function planExport(deps: ExportDeps, runId: string, sink: (tasks: ExportTask[]) => Promise<void>): Promise<ExportResult> {
  const run = await deps.state.getRun(runId);
  if (!run || (run.phase !== 'processing' && run.phase !== 'exporting')) return 'not-applicable';
  if (run.exportTasks !== undefined) return finishExport(deps, runId);

  // A retry pass cut off half-way is finished first: that needs only the first batches to be done.
  const chunks = await readChunks(deps.state, runId);
  const retryCutOff = !run.retried && chunks.some((c) => c.retry);
  const outcome = await deps.target.jobOutcome(run, retryCutOff ? chunks.filter((c) => !c.retry) : chunks);
  if (!outcome.terminal) return 'pending';
  if (outcome.failed) {
    await deps.state.updateRun(runId, (r) => (isActive(r) ? { ...r, jobState: 'fail' } : r));
    await endRunFailed(deps, runId, `job ${run.jobId} failed: ${outcome.detail ?? 'no detail given'}`);
    return 'failed';
  }
  // Another planner may have ended the run meanwhile: an ended run stays ended.
  const exporting = await deps.state.updateRun(runId, (r) =>
    isActive(r)
      ? { ...r, phase: 'exporting', jobState: 'success', resultsStage: outcome.resultsStage, timings: { ...r.timings, jobFinishedAt: r.timings.jobFinishedAt ?? new Date().toISOString() } }
      : r,
  );
  if (!isActive(exporting)) return 'not-applicable';
  let planned = 0;
  const pass = exportPass(exporting);
  const retry: RetryInput[] = [];
  const retryBatches = new Set(chunks.filter((c) => c.retry && c.targetRef).map((c) => c.targetRef));
  for (const batchId of outcome.outputBatches) {
    for await (const page of deps.target.outputFiles(run, batchId)) {
      const tasks: ExportTask[] = [];
      for (const f of page) {
        const input = f.failed?.retryInput;
        // A first failure to fetch is retried once; its retry chunk's result replaces it.
        if (input && deps.source && !retryBatches.has(batchId)) {
          if (!run.retried) retry.push(input);
          continue;
        }
        const part = f.partName ?? batchId;
        const order = { pass, index: planned + tasks.length };
        tasks.push({ taskId: `${batchId}/${part}/${f.fileName}`, part, fileName: f.fileName, locator: f.locator, failed: f.failed, order });
      }
      planned += tasks.length;
      await sink(tasks);
    }
  }
  if (retry.length > 0) {
    // Planners that found the pass claimed leave; the one that completed it plans again, now over
    // every batch (the retry batches may all have reported while it was submitting them).
    const completed = await resubmitInputs({ ...deps, source: deps.source! }, run, retry);
    return completed ? planExport(deps, runId, sink) : 'pending';
  }
  const recorded = await deps.state.updateRun(runId, (r) => (isActive(r) ? { ...r, exportTasks: planned } : r));
  if (!isActive(recorded)) return 'not-applicable';
  deps.log.info('export planned', { runId, files: planned });
  // The last tasks may have finished before the total was known.
  return (await deps.state.checkExportComplete(runId)).complete ? finishExport(deps, runId) : 'exporting';
}

export interface CopyOptions {
  /** Attempts at a transient failure (default 3); other failures are recorded at once. */
  attempts?: number;
  /** Milliseconds the caller has for the copy (a function's time left): the copy ends in time to record its outcome. */
  timeLeftMs?: number;
  /**
   * What a copy cut short by `timeLeftMs` does instead of failing: it is not recorded but left to
   * the caller to hand on, with the archive members it confirmed kept (see HandOn).
   */
  handOn?: HandOn;
  /** Where earlier invocations of this copy stopped. */
  resume?: CopyResume;
  /** The run as the caller read it (spares reading it again for every file of a page). */
  run?: RunRecord;
}

/**
 * Copies one result file into `<run folder>/<part>/<file>` (archives unpacked unless the run keeps
 * them) within the copy deadline, retrying transient failures, and records its outcome once. A
 * file that cannot be copied is recorded as a failure, never thrown, so the run can still finish;
 * nothing of it is left in the bucket.
 */
export async function runExportTask(
  deps: ExportDeps,
  runId: string,
  task: ExportTask,
  options: CopyOptions = {},
): Promise<{ complete: boolean; handOn?: undefined } | { handOn: CopyResume }> {
  const run = options.run ?? (await deps.state.getRun(runId));
  if (!run) throw new Error(`run ${runId} not found`);
  let result: ExportTaskResult;
  if (task.failed) return recordTaskOutcome(deps.state, runId, task, { taskId: task.taskId, part: task.part, files: 0, bytes: 0, failure: task.failed });
  const limits = exportLimits(deps.exportLimits);
  // The copy deadline, or the caller's time left when that is shorter.
  const deadlineMs = limits.copyTimeoutSeconds * 1000;
  const cutByCaller = options.timeLeftMs !== undefined && options.timeLeftMs < deadlineMs;
  const time = { ms: cutByCaller ? Math.max(0, options.timeLeftMs!) : deadlineMs, functionTime: cutByCaller };
  try {
    const copied = await copyResultFile(deps, copyJob(run, task), { attempts: options.attempts ?? 3, time, limits, handOn: options.handOn, resume: options.resume });
    if ('handOn' in copied) {
      deps.log.warn('result file copy handed on: the function ran out of time', { runId, part: task.part, file: task.fileName, membersStored: copied.handOn.members });
      return copied;
    }
    result = { taskId: task.taskId, part: task.part, ...copied };
  } catch (err) {
    deps.log.warn('result file not copied', { runId, part: task.part, file: task.fileName, error: errorMessage(err) });
    result = { taskId: task.taskId, part: task.part, files: 0, bytes: 0, failure: { type: 'export-failed', reason: errorMessage(err) } };
  }
  return recordTaskOutcome(deps.state, runId, task, result);
}

/** Stores a task's outcome (and its failure, for failed.jsonl); `complete`: see StateStore.recordExportTask. */
export async function recordTaskOutcome(state: StateStore, runId: string, task: ExportTask, result: ExportTaskResult): Promise<{ complete: boolean }> {
  if (result.failure) await state.recordFailures(runId, [{ name: `${task.part}/${task.fileName}`, stage: 'export', ...result.failure }]);
  return state.recordExportTask(runId, result, task.order);
}

/** Ends the run once every planned task has an outcome: completed, or failed if any file failed. */
export async function finishExport(deps: ExportDeps, runId: string): Promise<ExportResult> {
  const run = await deps.state.getRun(runId);
  if (!run) return 'not-applicable';
  if (run.phase === 'completed' || run.phase === 'failed') return run.phase;
  if (run.exportTasks === undefined) return 'exporting';
  const totals = { files: 0, bytes: 0 };
  let done = 0;
  let failed = 0;
  for await (const r of deps.state.exportTaskResults(runId)) {
    done++;
    if (r.failure) failed++;
    totals.files += r.files;
    totals.bytes += r.bytes;
  }
  if (done < run.exportTasks) return 'exporting';
  // Totals only: the summary sums each part from the task outcomes (the parts can be as many as the run's chunks).
  await deps.state.updateRun(runId, (r) => ({ ...r, exported: totals }));
  if (deps.target.combinedResults) await combineJsonResults(deps.dest, runFolder(run), deps.target.combinedResults);
  await writeResultsByKey(deps, run);
  if (failed > 0) {
    await endRun(deps, runId, 'failed', `${failed} result file(s) could not be copied`);
    return 'failed';
  }
  await endRun(deps, runId, 'completed');
  return 'completed';
}

const locks = new KeyedLock();

/**
 * Result files the in-process export copies at once. Per-image result files are small: with 32 in
 * flight their copy waits on the store's request rate, not on one file after another. Memory stays
 * bounded whatever this is: every copy's writes draw on the process's write budget (write-budget).
 */
export const FILES_IN_FLIGHT = 32;

/**
 * The in-process export (CLI): plan, copying the tasks of each page as they are listed with at
 * most `concurrency` (FILES_IN_FLIGHT) in flight across pages, then finish once all are done.
 */
export function exportResults(deps: ExportDeps & { concurrency?: number }, runId: string): Promise<ExportResult> {
  return locks.run(runId, async () => {
    const copies = new TaskPool(deps.concurrency ?? FILES_IN_FLIGHT);
    try {
      const planned = await planExport(deps, runId, async (tasks) => {
        const run = await deps.state.getRun(runId);
        await copies.add(tasks.map((task) => () => runExportTask(deps, runId, task, { run })));
      });
      await copies.drain();
      return planned === 'exporting' ? await finishExport(deps, runId) : planned;
    } catch (err) {
      await copies.drain().catch(() => undefined);
      await endRunFailed(deps, runId, `export failed: ${errorMessage(err)}`);
      return 'failed';
    }
  });
}

/** Where a task's objects go: names that would leave the run folder are refused. */
function copyJob(run: RunRecord, task: ExportTask): CopyJob {
  const part = safeRelativePath(task.part) ?? 'output';
  const fileName = safeRelativePath(task.fileName);
  if (!fileName) throw new Error(`unsafe result file name ${JSON.stringify(task.fileName)}`);
  return { label: `${part}/${fileName}`, fileName, locator: task.locator, folder: `${runFolder(run)}${part}/`, keepArchive: run.spec.keepArchives };
}
