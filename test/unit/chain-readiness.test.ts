import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { advance, applyEvent } from '../../shared/pipeline/chain';
import { NO_SHARD_QUIET_MS } from '../../shared/pipeline/shard-evidence';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { BatchTarget, IngestProgress } from '../../shared/targets/port';
import type { ObjectStore } from '../../shared/storage/port';
import { specFor, tempDir } from '../support/domain';
import { putChunk } from '../../shared/state/run-chunks';

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
    await state.createRun(run);
    await putChunk(state, 'r1', { index: 0, ingestId: `${run.batchId}-0`, manifestKey: 'm', references: 3, status: 'submitted' });
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

/** A target whose staged count and shards are set by the test, as the API would answer them. */
function scriptedTarget(progress: IngestProgress, staged: string[]): BatchTarget & { started: number; set(p: IngestProgress, s: string[]): void } {
  const target = {
    name: 'fake',
    started: 0,
    ingestProgress: async (): Promise<IngestProgress> => progress,
    async *stagedNames() {
      yield staged;
    },
    startJob: async () => {
      target.started++;
    },
    set(p: IngestProgress, s: string[]) {
      progress = p;
      staged = s;
    },
  };
  return target as unknown as BatchTarget & { started: number; set(p: IngestProgress, s: string[]): void };
}

describe('ingest readiness on webhooks', () => {
  const names = ['in__a.jpg', 'in__b.jpg', 'in__c.jpg'];

  async function setup(progress: IngestProgress, staged: string[]) {
    const state = new FileStateStore(await tempDir('bb-chain-'));
    const run = { ...newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')), phase: 'ingesting' as const, submitted: 3, submissionComplete: true };
    await state.createRun(run);
    await putChunk(state, 'r1', { index: 0, ingestId: `${run.batchId}-0`, manifestKey: 'm', references: 3, status: 'submitted' });
    await state.appendNames('r1', names.map((name) => ({ name, key: name.replace('__', '/') })));
    const target = scriptedTarget(progress, staged);
    const deps = { state, target, dest: nowhere, log: silentLogger };
    // The chunk's "ingest finished, success" notification arrives early.
    const outcome = await applyEvent(deps, { kind: 'ingest-status', eventId: 'early', batchId: run.batchId, ingestId: `${run.batchId}-0`, success: true });
    expect(outcome).toMatchObject({ outcome: 'recorded', followUp: { action: 'advance' } });
    return { state, target, deps };
  }

  const failures = async (state: FileStateStore) => {
    const all = [];
    for await (const f of state.failures('r1')) all.push(f);
    return all;
  };

  it('waits while the API says shards are still running, then starts the job with every file', async () => {
    const running = { count: 1, shards: [{ id: 's1', running: true, failed: false, detail: 'shard-ingest-in-progress (info)' }] };
    const { deps, state, target } = await setup(running, ['in__a.jpg']);
    expect(await advance(deps, 'r1', { awaitIngestEvents: true })).toMatchObject({ state: 'waiting', count: 1 });
    expect((await state.getRun('r1'))?.phase).toBe('ingesting');
    expect(await failures(state)).toEqual([]);
    expect(target.started).toBe(0);

    target.set({ count: 3, shards: [{ id: 's1', running: false, failed: false, detail: 'shard-ingest-completed (success)' }] }, names);
    expect(await advance(deps, 'r1', { awaitIngestEvents: true })).toEqual({ state: 'started' });
    expect(await state.getRun('r1')).toMatchObject({ phase: 'processing', ingested: 3 });
    expect(await failures(state)).toEqual([]);
  });

  it('asks for a later look while a shard runs, and takes the ingest as ended once the count stopped moving for long', async () => {
    const stuck = { count: 2, shards: [{ id: 's1', running: true, failed: false, detail: 'shard-ingest-in-progress (info)' }] };
    const { deps, state, target } = await setup(stuck, ['in__a.jpg', 'in__b.jpg']);
    expect(await advance(deps, 'r1', { awaitIngestEvents: true })).toMatchObject({ state: 'waiting', count: 2, recheck: true });
    expect(await advance(deps, 'r1', { awaitIngestEvents: true, longSettled: true })).toEqual({ state: 'started' });
    expect(target.started).toBe(1);
    expect(await failures(state)).toEqual([expect.objectContaining({ name: 'in__c.jpg', type: 'not-ingested' })]);
  });

  it('waits while the API shows no shard yet for a chunk reported ingested', async () => {
    const { deps, state, target } = await setup({ count: 0, shards: [] }, []);
    expect(await advance(deps, 'r1', { awaitIngestEvents: true })).toMatchObject({ state: 'waiting', count: 0 });
    expect((await state.getRun('r1'))?.phase).toBe('ingesting');
    expect(await failures(state)).toEqual([]);
    expect(target.started).toBe(0);
  });

  it('confirms the per-file failures notifications reported through the staged names before the job starts', async () => {
    const done = { count: 3, shards: [{ id: 's1', running: false, failed: false, detail: 'shard-ingest-completed (success)' }] };
    const { deps, state, target } = await setup(done, names);
    const run = (await state.getRun('r1'))!;
    const failed = [{ name: 'in__b.jpg', type: 'file-download-failed', reason: 'HTTP 503' }];
    await applyEvent(deps, { kind: 'files-status', eventId: 'files', batchId: run.batchId, ingestId: `${run.batchId}-0`, ingested: [], failed, truncated: false });
    expect(await failures(state)).toEqual([expect.objectContaining({ name: 'in__b.jpg', stage: 'ingest' })]);
    // The API staged it after all: it is processed and not reported as failed.
    expect(await advance(deps, 'r1', { awaitIngestEvents: true })).toEqual({ state: 'started' });
    expect(target.started).toBe(1);
    expect(await state.getRun('r1')).toMatchObject({ phase: 'processing', ingested: 3 });
    expect(await failures(state)).toEqual([]);
  });

  it('records the missing files once the API says every shard finished', async () => {
    const done = { count: 2, shards: [{ id: 's1', running: false, failed: false, detail: 'shard-ingest-completed (success)' }] };
    const { deps, state, target } = await setup(done, ['in__a.jpg', 'in__b.jpg']);
    expect(await advance(deps, 'r1', { awaitIngestEvents: true })).toEqual({ state: 'started' });
    expect(target.started).toBe(1);
    expect(await failures(state)).toEqual([expect.objectContaining({ name: 'in__c.jpg', type: 'not-ingested' })]);
  });
});

describe('ingest readiness needs a shard for every chunk (polling)', () => {
  const names = ['in__a.jpg', 'in__b.jpg', 'in__c.jpg', 'in__d.jpg'];

  /** Two submitted chunks of two references each, as polling leaves them (no notification). */
  async function setup(progress: IngestProgress, staged: string[]) {
    const state = new FileStateStore(await tempDir('bb-chain-'));
    const run = { ...newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')), phase: 'ingesting' as const, submitted: 4, submissionComplete: true };
    await state.createRun(run);
    for (const index of [0, 1]) await putChunk(state, 'r1', { index, ingestId: `${run.batchId}-${index}`, manifestKey: `m${index}`, references: 2, status: 'submitted' });
    await state.appendNames('r1', names.map((name) => ({ name, key: name.replace('__', '/') })));
    const target = scriptedTarget(progress, staged);
    return { state, target, deps: { state, target, dest: nowhere, log: silentLogger } };
  }

  const failures = async (state: FileStateStore) => {
    const all = [];
    for await (const f of state.failures('r1')) all.push(f);
    return all;
  };

  it('keeps waiting while no shard exists yet, however long the count stays at 0', async () => {
    const { deps, state, target } = await setup({ count: 0, shards: [] }, []);
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true, longSettled: true })).toMatchObject({ state: 'waiting', count: 0, underway: false });
    expect((await state.getRun('r1'))?.phase).toBe('ingesting');
    expect(await failures(state)).toEqual([]);
    expect(target.started).toBe(0);

    // The ingest starts late: once its shards show, the count must settle again before it ends.
    const running = (id: string) => ({ id, running: true, failed: false, detail: 'shard-ingest-in-progress (info)' });
    target.set({ count: 0, shards: [running('s1'), running('s2')] }, []);
    expect(await advance(deps, 'r1', { awaitIngestEvents: false })).toMatchObject({ state: 'waiting', count: 0, underway: true });

    // The ingest starts late: its shards show up, finish, and every file is staged.
    const done = (id: string) => ({ id, running: false, failed: false, detail: 'shard-ingest-completed (success)' });
    target.set({ count: 4, shards: [done('s1'), done('s2')] }, names);
    expect(await advance(deps, 'r1', { awaitIngestEvents: false })).toEqual({ state: 'started' });
    expect(await state.getRun('r1')).toMatchObject({ phase: 'processing', ingested: 4 });
    expect(await failures(state)).toEqual([]);
  });

  it('keeps waiting while a chunk shows no shard, even once the other chunk finished and the count settled', async () => {
    const oneDone = { count: 2, shards: [{ id: 's1', running: false, failed: false, detail: 'shard-ingest-completed (success)' }] };
    const { deps, state, target } = await setup(oneDone, names.slice(0, 2));
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true, longSettled: true })).toMatchObject({ state: 'waiting', count: 2, underway: false });
    expect(await failures(state)).toEqual([]);
    expect(target.started).toBe(0);
  });

  it('matches the shard ids a chunk was given at submission', async () => {
    const { deps, state, target } = await setup({ count: 2, shards: [] }, names.slice(0, 2));
    for (const index of [0, 1]) await state.updateChunk('r1', { index }, (c) => c && { ...c, shardIds: [`shard-${index}`] });
    // Two shards listed, but both belong to chunk 0: chunk 1's shard is not there yet.
    const done = (id: string) => ({ id, running: false, failed: false, detail: 'shard-ingest-completed (success)' });
    target.set({ count: 2, shards: [done('shard-0'), done('other')] }, names.slice(0, 2));
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true, longSettled: true })).toMatchObject({ state: 'waiting' });
    expect(target.started).toBe(0);

    target.set({ count: 3, shards: [done('shard-0'), done('shard-1')] }, names.slice(0, 3));
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true })).toEqual({ state: 'started' });
    expect(await failures(state)).toEqual([expect.objectContaining({ name: 'in__d.jpg', type: 'not-ingested' })]);
  });

  it('takes a chunk that never shows a shard as not ingested once nothing changed for the no-shard limit', async () => {
    const oneDone = { count: 2, shards: [{ id: 's1', running: false, failed: false, detail: 'shard-ingest-completed (success)' }] };
    const { deps, state, target } = await setup(oneDone, names.slice(0, 2));
    const almost = NO_SHARD_QUIET_MS - 1;
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true, longSettled: true, quietMs: almost })).toMatchObject({ state: 'waiting' });
    expect(await advance(deps, 'r1', { awaitIngestEvents: false, settled: true, quietMs: NO_SHARD_QUIET_MS })).toEqual({ state: 'started' });
    expect(target.started).toBe(1);
    expect((await failures(state)).map((f) => [f.name, f.type])).toEqual([
      ['in__c.jpg', 'not-ingested'],
      ['in__d.jpg', 'not-ingested'],
    ]);
  });

  it('on webhooks too: a long-unchanged count with no shard shown keeps the run waiting', async () => {
    const { deps, state, target } = await setup({ count: 0, shards: [] }, []);
    for (const index of [0, 1]) await state.updateChunk('r1', { index }, (c) => c && { ...c, status: 'ingested' });
    expect(await advance(deps, 'r1', { awaitIngestEvents: true, longSettled: true })).toMatchObject({ state: 'waiting', count: 0, recheck: true });
    expect((await state.getRun('r1'))?.phase).toBe('ingesting');
    expect(await failures(state)).toEqual([]);
    expect(target.started).toBe(0);
  });
});
