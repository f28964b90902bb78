import { errorMessage } from '../errors';
import { countPhaseLeft } from '../metrics/run-metrics';
import { advance, type FollowUp } from '../pipeline/chain';
import { endRunFailed } from '../pipeline/fail-run';
import { planExport, type ExportDeps } from '../pipeline/export';
import { claimExportPlan, releaseExportPlan } from '../pipeline/export-plan-claim';
import type { RecordContext } from '../runtime/sqs-batch';
import { UNLIMITED_BUDGET, type TimeBudget } from '../runtime/time-budget';
import { handleCopy } from './copy-worker';
import type { ExportMessage, StartJobMessage, SubmissionMessage } from '../runtime/messages';
import { INGEST_RECHECK_DELAY_SECONDS, INGEST_RECHECK_SETTLE, scheduleIngestRecheck } from './ingest-recheck';
import { flushPending } from './object-events';
import { loadRun } from './run-deps';
import { submitAndHandOn } from './scheduled-run';
import type { ServerlessPorts } from './serverless-ports';

/** A plan message that found another planner at work is sent again this much later. */
export const BUSY_PLAN_DELAY_SECONDS = 60;

/** Routes a webhook's follow-up to the worker queue that owns it. */
export async function dispatchFollowUp(ports: ServerlessPorts, followUp: FollowUp): Promise<void> {
  if (followUp.action === 'advance') await ports.queues.startJob.send([{ kind: 'advance', runId: followUp.runId }]);
  else await ports.queues.export.send([{ kind: 'plan', runId: followUp.runId }]);
}

export async function handleSubmission(ports: ServerlessPorts, message: SubmissionMessage, context: RecordContext, shouldYield: () => boolean) {
  if (message.kind === 'flush') {
    await flushPending(ports, message.sourceId, new Date());
    return;
  }
  await givingUpRecorded(ports, message.runId, 'submission', context, () => submitAndHandOn(ports, message.runId, shouldYield));
}

export async function handleStartJob(ports: ServerlessPorts, message: StartJobMessage, context: RecordContext) {
  await givingUpRecorded(ports, message.runId, 'starting the job', context, async () => {
    const { deps } = await loadRun(ports, message.runId);
    if (!deps) return;
    const { recheck } = message;
    const result = await advance(deps, message.runId, {
      awaitIngestEvents: true,
      longSettled: (recheck?.settling ?? 0) >= INGEST_RECHECK_SETTLE,
      quietMs: (recheck?.unchanged ?? 0) * INGEST_RECHECK_DELAY_SECONDS * 1000,
    });
    if (result.state === 'waiting' && result.recheck) await scheduleIngestRecheck(ports, message.runId, recheck, result);
    if (result.state === 'started') await countLeft(ports, message.runId, 'ingesting', 'jobStartedAt');
    // Batches that run from their submission may all have reported before the run was processing
    // (their export follow-ups then found nothing to do): plan its export from here as well.
    if (deps.target.processesOnSubmission && (await ports.state.getRun(message.runId))?.phase === 'processing') {
      await ports.queues.export.send([{ kind: 'plan', runId: message.runId }]);
    }
  });
}

/** Plans an export (one copy message per result file), or copies one file and finishes the run after the last. */
export async function handleExport(ports: ServerlessPorts, message: ExportMessage, context: RecordContext, budget: TimeBudget = UNLIMITED_BUDGET) {
  const { deps } = await loadRun(ports, message.runId);
  if (!deps) return;
  if (message.kind === 'plan') {
    await givingUpRecorded(ports, message.runId, 'planning the export', context, () => planOnce(ports, deps, message.runId));
    return;
  }
  await handleCopy(ports, deps, message, context, budget);
}

/**
 * Plans a run's export unless another planner is at it: one copy message per result file, however
 * many plan messages arrive at once. A planner that finds the planning taken looks again later
 * (`BUSY_PLAN_DELAY_SECONDS`), in case the holder dies before it is done.
 */
async function planOnce(ports: ServerlessPorts, deps: ExportDeps, runId: string) {
  const claim = await claimExportPlan(ports.state, runId);
  if (claim.state === 'busy') {
    await ports.queues.export.send([{ kind: 'plan', runId }], { delaySeconds: BUSY_PLAN_DELAY_SECONDS });
    return;
  }
  try {
    const before = await ports.state.getRun(runId);
    await planExport(deps, runId, (tasks) => ports.queues.export.send(tasks.map((task) => ({ kind: 'copy', runId, task }))));
    // This planner moved the run from processing to exporting (a failed job ends it: endRun counts that).
    if (before?.phase === 'processing') await countLeft(ports, runId, 'processing', 'jobFinishedAt');
  } finally {
    if (claim.state === 'claimed') await releaseExportPlan(ports.state, runId, claim.owner);
  }
}

/** Counts the time the run spent in `phase` if it has left it (`leftAt` is set). */
async function countLeft(ports: ServerlessPorts, runId: string, phase: 'ingesting' | 'processing', leftAt: 'jobStartedAt' | 'jobFinishedAt') {
  const run = await ports.state.getRun(runId);
  if (run?.timings[leftAt]) countPhaseLeft(ports.metrics, run, phase, run.timings[leftAt]);
}

/** On the last delivery, a failing step ends its run failed (with the reason) before the message is dead-lettered. */
export async function givingUpRecorded(ports: ServerlessPorts, runId: string, step: string, context: RecordContext, work: () => Promise<unknown>) {
  try {
    await work();
  } catch (err) {
    if (context.lastAttempt) {
      const deps = (await loadRun(ports, runId).catch(() => undefined))?.deps;
      if (deps) await endRunFailed(deps, runId, `${step} gave up after the last delivery: ${errorMessage(err)}`).catch(() => undefined);
    }
    throw err;
  }
}
