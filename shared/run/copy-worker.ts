import { errorMessage } from '../errors';
import { finishExport, recordTaskOutcome, runExportTask, type ExportDeps } from '../pipeline/export';
import type { ExportMessage } from '../runtime/messages';
import type { RecordContext } from '../runtime/sqs-batch';
import type { TimeBudget } from '../runtime/time-budget';
import type { ServerlessPorts } from './serverless-ports';

type CopyMessage = Extract<ExportMessage, { kind: 'copy' }>;

/**
 * Copies one result file and finishes the run after its last one, always ending while the
 * function still has time to record the outcome. A copy with too little time left is handed on to
 * a fresh invocation untouched; one the function's time cuts short is handed on once (what it
 * wrote removed), and recorded as failed if cut short again. On the last delivery a copy that
 * keeps failing counts as failed, so the run can still end.
 */
export async function handleCopy(ports: ServerlessPorts, deps: ExportDeps, message: CopyMessage, context: RecordContext, budget: TimeBudget) {
  const { runId, task } = message;
  const timeLeftMs = budget.left();
  if (timeLeftMs < budget.minStartMs) {
    await ports.queues.export.send([message]);
    return;
  }
  try {
    const outcome = await runExportTask(deps, runId, task, { timeLeftMs, mayHandOn: !message.handedOn });
    if (outcome.handOn) {
      await ports.queues.export.send([{ ...message, handedOn: true }]);
      return;
    }
    await finishAfterLast(ports, deps, runId, outcome.done);
  } catch (err) {
    if (!context.lastAttempt) throw err;
    // The message goes to the dead-letter queue; its file counts as failed so the run can still end.
    const reason = `gave up after the last delivery: ${errorMessage(err)}`;
    const { done } = await recordTaskOutcome(ports.state, runId, task, { taskId: task.taskId, part: task.part, files: 0, bytes: 0, failure: { type: 'export-failed', reason } });
    await finishAfterLast(ports, deps, runId, done);
    throw err;
  }
}

async function finishAfterLast(ports: ServerlessPorts, deps: ExportDeps, runId: string, done: number) {
  const run = await ports.state.getRun(runId);
  if (run?.exportTasks !== undefined && done >= run.exportTasks) await finishExport(deps, runId);
}
