/**
 * Job lifecycle: creation (with idempotency), the timed `processing` → `export` stages (the second
 * one renamed or left out when the faults say so), abort, restart, the job webhook, and the JSON
 * views returned by the API.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { EmulatorContext } from './context';
import { HttpError, badRequest, conflict } from './http-io';
import { PROCESSING_TASK_SIZE, writeExportOutput, writeProcessingOutput } from './job-outputs';
import { predictFor } from './predictions';
import { JobDefinition, RestartOverrides, parseOrBadRequest, type LogSeverity } from './schemas';
import { nowIso, type JobState, type StageState, type StagedFile } from './store';

/** A job whose `processingSpecification.workflowId` is this fails in its processing stage. */
export const FAIL_WORKFLOW_ID = 'fail-workflow';
const EXPORT_STAGE = 'export';
const EXPORT_TASKS = 2;
/** Steps in which a stage's tasks advance over its delay. */
const PROGRESS_STEPS = 10;

export type StartOutcome = 'created' | 'unchanged';

export function startJob(ctx: EmulatorContext, jobId: string, name: string | undefined, body: unknown): StartOutcome {
  const definition = parseOrBadRequest(JobDefinition, body, 'job definition');
  const existing = ctx.store.jobs.get(jobId);
  if (existing) {
    const status = ctx.faults.current.repeatedJobPostStatus;
    if (status !== undefined) {
      if (status >= 200 && status < 300) return 'unchanged';
      throw new HttpError(status, `job ${jobId} already exists`);
    }
    if (isDeepStrictEqual(existing.rawDefinition, body)) return 'unchanged';
    throw conflict(`job ${jobId} already exists with a different definition`);
  }
  if (definition.processingSpecification.workspace !== ctx.options.workspace) {
    throw badRequest(`processingSpecification.workspace must be ${ctx.options.workspace}`);
  }
  inputFiles(ctx, definition); // validates the input batch before anything is created

  const created = nowIso();
  const exportStage = ctx.faults.current.exportStageName === undefined ? EXPORT_STAGE : ctx.faults.current.exportStageName;
  const job: JobState = {
    jobId,
    name: name || jobId,
    definition,
    rawDefinition: body,
    currentStage: null,
    plannedStages: exportStage === null ? ['processing'] : ['processing', exportStage],
    error: false,
    isTerminal: false,
    lastNotification: null,
    createdAt: created,
    lastUpdate: created,
    restartParametersOverride: [],
    stages: [],
    logs: [],
    run: 0,
  };
  ctx.store.jobs.set(jobId, job);
  ctx.jobsStarted.push(jobId);
  beginRun(ctx, job);
  return 'created';
}

/** Files the job will process; 404 for a missing batch, 400 for an unusable one. */
function inputFiles(ctx: EmulatorContext, definition: JobDefinition): StagedFile[] {
  const { batchId, partName } = definition.jobInput;
  const batch = ctx.store.getBatch(batchId);
  const wanted = definition.type === 'simple-video-processing-v1' ? 'videos' : 'images';
  if (batch.batchType === 'multipart-batch') {
    if (!partName) throw badRequest(`jobInput.partName is required for multipart batch ${batchId}`);
  } else {
    if (partName) throw badRequest(`jobInput.partName given but batch ${batchId} has no parts`);
    if (batch.batchContentType !== wanted) {
      throw badRequest(`${definition.type} needs a batch of ${wanted}; ${batchId} holds ${batch.batchContentType}`);
    }
  }
  const files = ctx.store.filesOf(batch, partName);
  if (files.length === 0) throw badRequest(`batch ${batchId} has no ingested items`);
  return files;
}

function beginRun(ctx: EmulatorContext, job: JobState): void {
  job.run += 1;
  job.stages = [];
  job.error = false;
  job.isTerminal = false;
  const run = job.run;
  const inputs = [...inputFiles(ctx, job.definition)];
  startStage(job, 'processing', Math.ceil(inputs.length / PROCESSING_TASK_SIZE));
  log(job, 'info', 'job-started', { message: `Job started on ${inputs.length} items`, run });
  ctx.scope.run(() => runStages(ctx, job, run, inputs), (err) => ctx.reportError(err));
}

async function runStages(ctx: EmulatorContext, job: JobState, run: number, inputs: StagedFile[]): Promise<void> {
  const stale = () => job.run !== run || job.isTerminal;
  const delay = ctx.options.jobStageDelayMs;

  const processing = currentStage(job);
  const failing = job.definition.processingSpecification.workflowId === FAIL_WORKFLOW_ID;
  if (failing) await ctx.scope.sleep(delay);
  else await advanceTasks(ctx, processing, delay, stale);
  if (stale()) return;
  if (failing) {
    finishStage(job, processing, 'error', 'Workflow execution failed on every task');
    log(job, 'error', 'stage-failed', { message: 'Workflow execution failed', workflowId: FAIL_WORKFLOW_ID });
    return finishJob(ctx, job, 'fail', 'Job failed in processing stage');
  }
  const results = inputs.map((file) => predictFor(file.fileName, file.sha256));
  const format = job.definition.processingSpecification.aggregationFormat ?? 'jsonl';
  const processingBatch = writeProcessingOutput(ctx, job.jobId, results, format);
  finishStage(job, processing, 'success', 'Processing completed', [processingBatch.batchId]);
  const exportStage = job.plannedStages[1];
  if (exportStage === undefined) return finishJob(ctx, job, 'success', 'Job completed', [processingBatch.batchId]);

  startStage(job, exportStage, EXPORT_TASKS);
  await advanceTasks(ctx, currentStage(job), delay, stale);
  if (stale()) return;
  const exportBatch = await writeExportOutput(ctx, job.jobId, results);
  if (stale()) return;
  finishStage(job, currentStage(job), 'success', 'Export completed', [exportBatch.batchId]);
  finishJob(ctx, job, 'success', 'Job completed', [processingBatch.batchId, exportBatch.batchId]);
}

/**
 * A stage's tasks advance over the stage's delay in steps, one task after another,
 * each with its own `progress`, so a client can watch the stage move (tasks done, percentage).
 */
async function advanceTasks(ctx: EmulatorContext, stage: StageState, delayMs: number, stale: () => boolean): Promise<void> {
  for (let step = 1; step <= PROGRESS_STEPS; step++) {
    await ctx.scope.sleep(delayMs / PROGRESS_STEPS);
    if (stale()) return;
    setStageProgress(stage, step / PROGRESS_STEPS);
  }
}

function setStageProgress(stage: StageState, fraction: number): void {
  const now = nowIso();
  const n = stage.tasks.length;
  stage.tasks.forEach((task, i) => {
    const progress = Math.min(1, Math.max(0, fraction * n - i));
    if (task.statusType !== 'info' || progress === task.progress) return;
    Object.assign(task, { progress, eventTimestamp: now }, progress === 1 ? { statusType: 'success', notification: { type: 'task-status', message: 'Task completed' } } : {});
  });
  stage.lastEventTimestamp = now;
}

function startStage(job: JobState, stageName: string, tasksNumber: number): void {
  const now = nowIso();
  const stage: StageState = {
    processingStageId: randomUUID(),
    processingStageName: stageName,
    tasksNumber,
    outputBatches: [],
    startTimestamp: now,
    lastEventTimestamp: now,
    notification: { type: 'stage-status', message: `Stage ${stageName} in progress` },
    statusType: 'info',
    tasks: Array.from({ length: tasksNumber }, () => ({
      taskId: randomUUID(),
      notification: { type: 'task-status', message: 'Task in progress' },
      statusType: 'info',
      progress: 0,
      eventTimestamp: now,
    })),
  };
  job.stages.push(stage);
  job.currentStage = stageName;
  setNotification(job, { type: 'job-progress', message: `Stage ${stageName} started` });
  log(job, 'info', 'stage-started', { message: `Stage ${stageName} started` }, stage.processingStageId);
}

function currentStage(job: JobState): StageState {
  return job.stages[job.stages.length - 1]!;
}

function finishStage(job: JobState, stage: StageState, statusType: string, message: string, outputBatches: string[] = []): void {
  const now = nowIso();
  stage.statusType = statusType;
  stage.lastEventTimestamp = now;
  stage.notification = { type: 'stage-status', message };
  stage.outputBatches = outputBatches;
  for (const task of stage.tasks) {
    if (task.statusType !== 'info') continue;
    Object.assign(task, {
      statusType,
      progress: statusType === 'success' ? 1 : task.progress,
      eventTimestamp: now,
      notification: { type: 'task-status', message },
    });
  }
  if (statusType === 'success') log(job, 'info', 'stage-completed', { message }, stage.processingStageId);
  job.lastUpdate = now;
}

function finishJob(ctx: EmulatorContext, job: JobState, state: 'success' | 'fail', message: string, resultsBatches?: string[]): void {
  job.isTerminal = true;
  job.error = state === 'fail';
  setNotification(job, { type: state === 'fail' ? 'job-failed' : 'job-completed', message, ...(resultsBatches ? { resultsBatches } : {}) });
  log(job, state === 'fail' ? 'error' : 'info', 'job-finished', { message, jobState: state });
  const url = job.definition.notificationsURL;
  if (url) {
    ctx.webhooks.sendAll(url, [
      { type: 'roboflow-batch-job-notification-v1', event_id: randomUUID(), job_id: job.jobId, job_state: state },
    ]);
  }
}

/** Aborting a terminal job is a no-op; otherwise the job ends as failed (error: true). */
export function abortJob(ctx: EmulatorContext, job: JobState): { status: string; message: string } {
  if (job.isTerminal) return { status: 'ok', message: 'job is already terminal' };
  const stage = currentStage(job);
  finishStage(job, stage, 'error', 'Aborted on user request');
  log(job, 'warning', 'job-aborted', { message: 'Job aborted on user request' }, stage.processingStageId);
  finishJob(ctx, job, 'fail', 'Job aborted on user request');
  return { status: 'ok', message: 'job aborted' };
}

export function restartJob(ctx: EmulatorContext, job: JobState, body: unknown): { status: string } {
  if (!job.isTerminal || !job.error) throw conflict(`job ${job.jobId} can only be restarted after it failed or was aborted`);
  if (body !== undefined) job.restartParametersOverride.push(parseOrBadRequest(RestartOverrides, body, 'restart parameters'));
  beginRun(ctx, job);
  return { status: 'ok' };
}

function setNotification(job: JobState, notification: Record<string, unknown>): void {
  job.lastNotification = notification;
  job.lastUpdate = nowIso();
}

function log(job: JobState, severity: LogSeverity, logType: string, payload: Record<string, unknown>, processingStageId?: string): void {
  job.logs.push({
    createdAt: nowIso(),
    ...(processingStageId ? { processingStageId } : {}),
    severity,
    reportingModule: 'batch-job-coordinator',
    logType,
    payload,
  });
}

// ---- API views (camelCase, internal bookkeeping stripped) ----

export function jobView(job: JobState) {
  return {
    jobId: job.jobId,
    name: job.name,
    jobDefinition: job.rawDefinition,
    currentStage: job.currentStage,
    plannedStages: job.plannedStages,
    error: job.error,
    isTerminal: job.isTerminal,
    lastNotification: job.lastNotification,
    createdAt: job.createdAt,
    lastUpdate: job.lastUpdate,
    restartParametersOverride: job.restartParametersOverride,
  };
}

export function stageView(stage: StageState) {
  return {
    processingStageId: stage.processingStageId,
    processingStageName: stage.processingStageName,
    tasksNumber: stage.tasksNumber,
    outputBatches: stage.outputBatches,
    startTimestamp: stage.startTimestamp,
    lastEventTimestamp: stage.lastEventTimestamp,
    notification: stage.notification,
    statusType: stage.statusType,
  };
}
