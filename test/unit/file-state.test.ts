import { describe, expect, it } from 'vitest';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { RunExistsError } from '../../shared/state/port';
import { specFor, tempDir } from '../support/domain';

describe('FileStateStore', () => {
  it('finds runs by batch id, job id and linked target ids, and refuses a second run with the same id', async () => {
    const state = new FileStateStore(await tempDir('bb-file-state-'));
    const run = newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/'));
    await state.createRun(run);
    await expect(state.createRun(run)).rejects.toBeInstanceOf(RunExistsError);
    expect((await state.findRunByBatchId(run.batchId))?.runId).toBe('r1');
    expect((await state.findRunByJobId(run.jobId))?.runId).toBe('r1');
    expect(await state.findRunByJobId('bpr_2')).toBeUndefined();
    await state.linkJob('bpr_2', 'r1');
    expect((await state.findRunByJobId('bpr_2'))?.runId).toBe('r1');
  });

  it('records each event id once and export task outcomes once per task', async () => {
    const state = new FileStateStore(await tempDir('bb-file-state-'));
    await state.createRun(newRunRecord('r2', specFor('s3://bucket/in/', 's3://bucket/out/')));
    expect(await state.recordEvent('e1')).toBe(true);
    expect(await state.recordEvent('e1')).toBe(false);
    expect(await state.hasEvent('e1')).toBe(true);
    const task = { taskId: 't1', part: 'p', files: 1, bytes: 3 };
    expect(await Promise.all([state.recordExportTask('r2', task), state.recordExportTask('r2', task)])).toEqual([{ done: 1 }, { done: 1 }]);
    expect((await state.recordExportTask('r2', { ...task, taskId: 't2' })).done).toBe(2);
    await state.resetExport('r2');
    expect((await state.recordExportTask('r2', task)).done).toBe(1);
  });
});
