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
 * a fresh invocation untouched. One the function's time cuts short is handed on from where it
 * stopped (the archive members it stored are kept, the message says how many, and the next
 * invocation reads past them unwritten): always the first time, after that as long as each
 * invocation gets further; cut short without getting further, it is recorded as failed and every
 * object it stored, in any invocation, is removed. On the last delivery a copy that keeps failing
 * counts as failed, so the run can still end.
 */
export async function handleCopy(ports: ServerlessPorts, deps: ExportDeps, message: CopyMessage, context: RecordContext, budget: TimeBudget) {
  const { runId, task } = message;
  const timeLeftMs = budget.left();
  if (timeLeftMs < budget.minStartMs) {
    await ports.queues.export.send([message]);
    return;
  }
  try {
    const outcome = await runExportTask(deps, runId, task, { timeLeftMs, handOn: message.handedOn ? 'with-progress' : 'always', resume: message.resume });
    if (outcome.handOn) {
      const resume = outcome.handOn.members > 0 ? { resume: outcome.handOn } : {};
      await ports.queues.export.send([{ ...message, handedOn: true, ...resume }]);
      return;
    }
    if (outcome.complete) await finishExport(deps, runId);
  } catch (err) {
    if (!context.lastAttempt) throw err;
    // The message goes to the dead-letter queue; its file counts as failed so the run can still end.
    const reason = `gave up after the last delivery: ${errorMessage(err)}`;
    const { complete } = await recordTaskOutcome(ports.state, runId, task, { taskId: task.taskId, part: task.part, files: 0, bytes: 0, failure: { type: 'export-failed', reason } });
    if (complete) await finishExport(deps, runId);
    throw err;
  }
}
