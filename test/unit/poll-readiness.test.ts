import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { waitByPolling } from '../../shared/run/poll';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { BatchTarget, IngestProgress, JobOutcome } from '../../shared/targets/port';
import type { ObjectStore } from '../../shared/storage/port';
import type { BridgeDeps } from '../../shared/run/deps';
import { specFor, tempDir } from '../support/domain';
import { putChunk } from '../../shared/state/run-chunks';

const NAMES = ['in__a.jpg', 'in__b.jpg', 'in__c.jpg'];
const running = { id: 's1', running: true, failed: false, detail: 'shard-ingest-in-progress (info)' };
const done = { ...running, running: false, detail: 'shard-ingest-completed (success)' };

/**
 * The API as polled look by look: no shard for `silentLooks`, then a shard running with nothing
 * staged yet for two looks, then every file staged. The job it starts is reported failed at once,
 * so the wait ends as soon as the job was started.
 */
function lateTarget(silentLooks: number): BatchTarget & { looks: number; started: number } {
  const progressAt = (look: number): { progress: IngestProgress; staged: string[] } =>
    look <= silentLooks
      ? { progress: { count: 0, shards: [] }, staged: [] }
      : look <= silentLooks + 2
        ? { progress: { count: 0, shards: [running] }, staged: [] }
        : { progress: { count: NAMES.length, shards: [done] }, staged: NAMES };
  const target = {
    name: 'fake',
    looks: 0,
    started: 0,
    ingestProgress: async () => progressAt(++target.looks).progress,
    async *stagedNames() {
      yield progressAt(target.looks).staged;
    },
    startJob: async () => {
      target.started++;
    },
    jobOutcome: async (): Promise<JobOutcome> => ({ terminal: true, failed: true, detail: 'stopped by the test', outputBatches: [] }),
  };
  return target as unknown as BatchTarget & { looks: number; started: number };
}

const nowhere = { write: async () => ({ bytes: 0 }) } as unknown as ObjectStore;

describe('waiting by polling for an ingest whose first shard comes late', () => {
  it('does not settle on the looks before the shard appeared: the running shard is waited for and every file staged', async () => {
    const state = new FileStateStore(await tempDir('bb-poll-'));
    const run = { ...newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')), phase: 'ingesting' as const, submitted: 3, submissionComplete: true };
    await state.createRun(run);
    await putChunk(state, 'r1', { index: 0, ingestId: `${run.batchId}-0`, manifestKey: 'm', references: 3, status: 'submitted' });
    await state.appendNames('r1', NAMES.map((name) => ({ name, key: name.replace('__', '/') })));
    // Far more silent looks than settle an ingest (3) or end one with a shard still running (12).
    const target = lateTarget(20);
    const deps = { source: nowhere, dest: nowhere, state, target, log: silentLogger, progress: () => undefined } as BridgeDeps;

    const ended = await waitByPolling(deps, 'r1', { intervalMs: 1, timeoutMs: 20_000, settlePolls: 3 });
    expect(target.looks).toBe(23);
    expect(target.started).toBe(1);
    expect(ended).toMatchObject({ ingested: NAMES.length, error: expect.stringContaining('stopped by the test') });
    const failures = [];
    for await (const f of state.failures('r1')) failures.push(f);
    expect(failures).toEqual([]);
  });
});
