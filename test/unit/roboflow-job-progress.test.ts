import { describe, expect, it } from 'vitest';
import type { RoboflowClient } from '../../shared/targets/roboflow/client';
import { roboflowJobProgress } from '../../shared/targets/roboflow/job-progress';

type Task = { taskId: string; statusType: string; progress?: unknown };

/** A client answering one job's metadata, stages and (paged) tasks. */
function client(job: { currentStage?: string | null; plannedStages?: string[] | null }, stages: Array<Record<string, unknown>>, tasks: Record<string, Task[][]>): RoboflowClient {
  return {
    jobMetadata: async () => ({ jobId: 'bb-1', error: false, isTerminal: false, restartParametersOverride: [], ...job }),
    jobStages: async () => stages.map((s) => ({ outputBatches: [], ...s })),
    stageTasks: async function* (_jobId: string, stageId: string) {
      yield* tasks[stageId] ?? [];
    },
  } as unknown as RoboflowClient;
}

const stage = (id: string, name: string, statusType: string, tasksNumber?: number) => ({
  processingStageId: id,
  processingStageName: name,
  statusType,
  tasksNumber,
  startTimestamp: '2026-12-04T10:00:00.000Z',
});

describe('Roboflow job progress', () => {
  it('reads the current stage: tasks done (statusType no longer info), and the percent from every task\'s progress', async () => {
    const tasks = [[{ taskId: '1', statusType: 'success' }, { taskId: '2', statusType: 'info', progress: 0.5 }], [{ taskId: '3', statusType: 'info', progress: 'n/a' }, { taskId: '4', statusType: 'error' }]];
    const progress = await roboflowJobProgress(
      client({ currentStage: 'processing', plannedStages: ['processing', 'export'] }, [stage('s1', 'processing', 'info', 4)], { s1: tasks }),
      'bb-1',
    );
    expect(progress).toEqual({ stage: 'processing', unit: 'tasks', done: 2, total: 4, fraction: 2.5 / 4, startedAt: '2026-12-04T10:00:00.000Z', stageNumber: 1, stages: 2 });
  });

  it('counts tasks not listed yet as not started, and a finished stage as whole', async () => {
    const some = await roboflowJobProgress(client({ currentStage: 'export' }, [stage('s1', 'processing', 'success', 1), stage('s2', 'export', 'info', 10)], { s2: [[{ taskId: 'a', statusType: 'success' }]] }), 'bb-1');
    expect(some).toMatchObject({ stage: 'export', done: 1, total: 10, fraction: 0.1, stageNumber: 2, stages: 2 });
    const whole = await roboflowJobProgress(client({ currentStage: 'export' }, [stage('s2', 'export', 'success', 2)], { s2: [[{ taskId: 'a', statusType: 'info', progress: 0.3 }]] }), 'bb-1');
    expect(whole).toMatchObject({ done: 1, total: 2, fraction: 1 });
  });

  it('takes the last stage when the job names none, and is undefined before the job has stages', async () => {
    expect(await roboflowJobProgress(client({}, [stage('s1', 'processing', 'success', 1), stage('s2', 'export', 'info', 2)], {}), 'bb-1')).toMatchObject({ stage: 'export', done: 0, total: 2, fraction: 0, stageNumber: 2, stages: 2 });
    expect(await roboflowJobProgress(client({ currentStage: null }, [], {}), 'bb-1')).toBeUndefined();
  });

  it('reads at most 20 pages of tasks per look', async () => {
    const pages = Array.from({ length: 30 }, (_, i) => [{ taskId: String(i), statusType: 'success' }]);
    expect(await roboflowJobProgress(client({ currentStage: 'processing' }, [stage('s1', 'processing', 'info', 30)], { s1: pages }), 'bb-1')).toMatchObject({ done: 20, total: 30 });
  });
});
