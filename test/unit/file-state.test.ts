import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { RunExistsError } from '../../shared/state/port';
import { putChunk, readChunks } from '../../shared/state/run-chunks';
import type { Chunk } from '../../shared/state/run-record';
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
    // Complete once the run's total is known and reached, told to one task id (and to it again).
    expect(await Promise.all([state.recordExportTask('r2', task), state.recordExportTask('r2', task)])).toEqual([{ complete: false }, { complete: false }]);
    await state.updateRun('r2', (r) => ({ ...r, exportTasks: 2 }));
    expect(await state.recordExportTask('r2', { ...task, taskId: 't2' })).toEqual({ complete: true });
    expect(await state.recordExportTask('r2', task)).toEqual({ complete: false });
    expect(await state.recordExportTask('r2', { ...task, taskId: 't2' })).toEqual({ complete: true });
    expect(await state.checkExportComplete('r2')).toEqual({ complete: false });
    await state.resetExport('r2');
    expect(await state.recordExportTask('r2', task)).toEqual({ complete: false });
    expect(await state.checkExportComplete('r2')).toEqual({ complete: false });
    expect(await state.recordExportTask('r2', { ...task, taskId: 't2' })).toEqual({ complete: true });
  });

  const chunk = (index: number, status: Chunk['status'] = 'submitted'): Chunk => ({ index, ingestId: `bb-r-${index}`, manifestKey: `m/${index}.jsonl`, references: 2, status });

  it('keeps chunks in files of their own, read in (partition, index) order, never in run.json', async () => {
    const dir = await tempDir('bb-file-state-');
    const state = new FileStateStore(dir);
    await state.createRun(newRunRecord('r3', specFor('s3://bucket/in/', 's3://bucket/out/')));
    for (const c of [chunk(11), { ...chunk(0), partition: 2 }, chunk(2)]) await putChunk(state, 'r3', c);
    expect((await readChunks(state, 'r3')).map((c) => [c.partition ?? 0, c.index])).toEqual([[0, 2], [0, 11], [2, 0]]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => state.updateChunk('r3', { index: 2 }, (c) => c && { ...c, shardIds: [...(c.shardIds ?? []), `s${i}`] })));
    expect((await state.getChunk('r3', { index: 2 }))?.shardIds).toHaveLength(10);
    expect(JSON.parse(await readFile(join(dir, 'runs', 'r3', 'run.json'), 'utf8'))).not.toHaveProperty('chunks');
    expect(await readChunks(state, 'r9')).toEqual([]);
  });

  it('reads a run.json the previous version wrote with its chunks inline: the chunks move to their files, a newer chunk file is kept', async () => {
    const dir = await tempDir('bb-file-state-');
    const state = new FileStateStore(dir);
    const run = newRunRecord('old', specFor('s3://bucket/in/', 's3://bucket/out/'));
    await state.createRun(run);
    await putChunk(state, 'old', chunk(0, 'ingested'));
    await writeFile(join(dir, 'runs', 'old', 'run.json'), JSON.stringify({ ...run, chunks: [chunk(0), chunk(1)] }));

    expect(await state.getRun('old')).toEqual(run);
    expect(await readChunks(state, 'old')).toEqual([chunk(0, 'ingested'), chunk(1)]);
    expect(JSON.parse(await readFile(join(dir, 'runs', 'old', 'run.json'), 'utf8'))).not.toHaveProperty('chunks');

    // An update of a record still in the old form moves its chunks out first too.
    await writeFile(join(dir, 'runs', 'old', 'run.json'), JSON.stringify({ ...run, chunks: [chunk(2)] }));
    expect((await state.updateRun('old', (r) => ({ ...r, listed: 4 }))).listed).toBe(4);
    expect((await readChunks(state, 'old')).map((c) => c.index)).toEqual([0, 1, 2]);
  });
});
