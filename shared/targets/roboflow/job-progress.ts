import type { JobProgress } from '../../progress';
import type { RoboflowClient } from './client';

/** Task pages read per look at most (a stage of very many tasks is counted from the first ones). */
const MAX_TASK_PAGES = 20;

/**
 * The job's current stage and how far its tasks are: `GET job` names the stage, `GET stages` gives
 * its task count and start time, and its tasks (`GET …/tasks`, paged) say which are done
 * (`statusType` no longer `info`) and how far the others are (`progress`, 0 to 1). Undefined
 * before the job has a stage.
 */
export async function roboflowJobProgress(client: RoboflowClient, jobId: string): Promise<JobProgress | undefined> {
  const job = await client.jobMetadata(jobId);
  const stages = await client.jobStages(jobId);
  const current = stages.findLast((s) => s.processingStageName === job.currentStage) ?? stages.at(-1);
  if (!current) return undefined;
  const stageDone = current.statusType.toLowerCase() !== 'info';
  let seen = 0;
  let done = 0;
  let progress = 0;
  let pages = 0;
  for await (const tasks of client.stageTasks(jobId, current.processingStageId)) {
    for (const task of tasks) {
      seen++;
      const finished = stageDone || task.statusType.toLowerCase() !== 'info';
      if (finished) done++;
      progress += finished ? 1 : fractionOf(task.progress);
    }
    if (++pages >= MAX_TASK_PAGES) break;
  }
  const total = Math.max(current.tasksNumber ?? seen, done);
  const planned = job.plannedStages ?? stages.map((s) => s.processingStageName);
  const position = planned.indexOf(current.processingStageName);
  return {
    stage: current.processingStageName,
    unit: 'tasks',
    done,
    total,
    fraction: stageDone ? 1 : total > 0 ? Math.min(1, progress / total) : 0,
    startedAt: current.startTimestamp ?? undefined,
    stageNumber: position === -1 ? undefined : position + 1,
    stages: position === -1 ? undefined : planned.length,
  };
}

/** A task's `progress` (undocumented beyond a number): a fraction from 0 to 1, anything else 0. */
function fractionOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
