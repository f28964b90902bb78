import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { advance } from '../../shared/pipeline/chain';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { BatchTarget, IngestProgress } from '../../shared/targets/port';
import type { ObjectStore } from '../../shared/storage/port';
import { specFor, tempDir } from '../support/domain';

/** A target whose ingest never reports its shard as finished (status values are not published). */
function stuckShardTarget(staged: string[]): BatchTarget & { started: number } {
  const target = {
    name: 'fake',
    started: 0,
    ingestProgress: async (): Promise<IngestProgress> => ({ count: staged.length, shards: [{ id: 's1', running: true, failed: false, detail: 'x (info)' }] }),
    async *stagedNames() {
      yield staged;
    },
    startJob: async () => {
      target.started++;
    },
  };
  return target as unknown as BatchTarget & { started: number };
}

const nowhere = { write: async () => ({ bytes: 0 }) } as unknown as ObjectStore;

describe('ingest readiness when polling', () => {
  async function setup() {
    const state = new FileStateStore(await tempDir('bb-chain-'));
    const run = { ...newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')), phase: 'ingesting' as const, submitted: 3, submissionComplete: true };
    run.chunks = [{ index: 0, ingestId: `${run.batchId}-0`, manifestKey: 'm', references: 3, status: 'submitted' }];
    await state.createRun(run);
    await state.appendNames('r1', ['in__a.jpg', 'in__b.jpg', 'in__c.jpg'].map((name) => ({ name, key: name.replace('__', '/') })));
    const target = stuckShardTarget(['in__a.jpg', 'in__b.jpg']);
    return { state, target, deps: { state, target, dest: nowhere, log: silentLogger } };
  }

  it('keeps waiting while a shard says it is running, even once the count settled', async () => {
    const { deps, target } = await setup();
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true })).toMatchObject({ state: 'waiting', count: 2 });
    expect(target.started).toBe(0);
  });

  it('ends the ingest after a long quiet period, records the missing file and starts the job', async () => {
    const { deps, state, target } = await setup();
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true, longSettled: true })).toEqual({ state: 'started' });
    expect(target.started).toBe(1);
    const failures = [];
    for await (const f of state.failures('r1')) failures.push(f);
    expect(failures).toEqual([expect.objectContaining({ name: 'in__c.jpg', key: 'in/c.jpg', stage: 'ingest', type: 'not-ingested' })]);
    expect((await state.getRun('r1'))?.ingested).toBe(2);
  });
});
