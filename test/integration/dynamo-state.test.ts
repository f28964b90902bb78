import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DynamoObjectLedger,
  DynamoPendingObjects,
  DynamoStateStore,
  STATE_TABLE_KEYS,
  stateTableDefinition,
  stateTableTimeToLive,
  type DynamoStateOptions,
} from '../../shared/state/dynamo';
import { keys } from '../../shared/state/dynamo/table';
import type { Chunk, ExportTaskResult, FileFailure, RunRecord } from '../../shared/state/run-record';
import { putChunk, recordSubmitted } from '../../shared/state/run-chunks';
import type { StoredObject } from '../../shared/storage/port';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { RunExistsError } from '../../shared/state/port';
import { newRunRecord } from '../../shared/run/start-run';
import { specFor } from '../support/domain';

const FAST: DynamoStateOptions = { retryBaseMs: 2 };

/** A fresh run with readable ids (`bb-<run>`, `bb-job-<run>`) so lookups are easy to assert. */
function runRecord(runId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return { ...newRunRecord(runId, specFor('s3://media/in/', 's3://media/out/')), batchId: `bb-${runId}`, jobId: `bb-job-${runId}`, ...overrides };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of iterable) all.push(item);
  return all;
}

const obj = (key: string, etag?: string, size = 10, lastModified?: Date): StoredObject => ({
  key,
  size,
  ...(etag !== undefined && { etag }),
  ...(lastModified !== undefined && { lastModified }),
});

describe('DynamoDB state adapter against dynalite', () => {
  let ddb: TestDynamo;
  let table: string;
  let tables = 0;

  beforeAll(async () => {
    ddb = await startDynalite();
  });
  afterAll(() => ddb.close());
  beforeEach(async () => {
    table = await ddb.createStateTable(`bb-state-${++tables}`);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const store = (options: DynamoStateOptions = {}) => new DynamoStateStore(ddb.doc, table, { ...FAST, ...options });

  describe('table definition', () => {
    it('is one pk/sk string table on demand, with expiresAt as the TTL attribute', () => {
      const def = stateTableDefinition('t');
      expect(def.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(def.AttributeDefinitions).toEqual([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]);
      expect(def.BillingMode).toBe('PAY_PER_REQUEST');
      expect(def.GlobalSecondaryIndexes).toBeUndefined();
      expect(STATE_TABLE_KEYS.ttlAttribute).toBe('expiresAt');
      expect(stateTableTimeToLive('t').TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    });
  });

  describe('runs', () => {
    it('creates, reads and finds a run by batch id and job id', async () => {
      const state = store();
      const run = runRecord('r1', { listed: 3, checkpoint: { nextChunk: 1 } });
      await state.createRun(run);
      expect(await state.getRun('r1')).toEqual(run);
      expect((await state.findRunByBatchId('bb-r1'))?.runId).toBe('r1');
      expect((await state.findRunByJobId('bb-job-r1'))?.runId).toBe('r1');
      expect(await state.getRun('nope')).toBeUndefined();
      expect(await state.findRunByBatchId('bb-nope')).toBeUndefined();
      expect(await state.findRunByJobId('bb-job-nope')).toBeUndefined();
    });

    it('routes a linked target id (e.g. one of several target batches) to its run, once', async () => {
      const state = store();
      await state.createRun(runRecord('r9'));
      await state.createRun(runRecord('r10'));
      await state.linkJob('bpr_1', 'r9');
      await state.linkJob('bpr_1', 'r9'); // a retried link is harmless
      expect((await state.findRunByJobId('bpr_1'))?.runId).toBe('r9');
      await expect(state.linkJob('bpr_1', 'r10')).rejects.toThrow(/job id bpr_1 already belongs to run r9/);
      expect((await state.findRunByJobId('bpr_1'))?.runId).toBe('r9');
    });

    it('rejects a second createRun with the same id, sequentially and concurrently, keeping the first record', async () => {
      const state = store();
      await state.createRun(runRecord('r1', { listed: 1 }));
      await expect(state.createRun(runRecord('r1', { listed: 2 }))).rejects.toBeInstanceOf(RunExistsError);
      expect((await state.getRun('r1'))?.listed).toBe(1);

      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => state.createRun(runRecord('r2', { listed: i }))));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o as PromiseRejectedResult).reason instanceof RunExistsError)).toBe(true);
      expect((await state.findRunByBatchId('bb-r2'))?.runId).toBe('r2');
    });

    it('refuses a run whose batch or job id already belongs to another run', async () => {
      const state = store();
      await state.createRun(runRecord('r1'));
      await expect(state.createRun(runRecord('r2', { batchId: 'bb-r1' }))).rejects.toThrow(/batch id bb-r1 already belongs to run r1/);
      await expect(state.createRun(runRecord('r3', { jobId: 'bb-job-r1' }))).rejects.toThrow(/job id bb-job-r1 already belongs to run r1/);
      expect(await state.getRun('r2')).toBeUndefined();
      expect(await state.getRun('r3')).toBeUndefined();
      expect((await state.findRunByBatchId('bb-r1'))?.runId).toBe('r1');
      expect((await state.findRunByJobId('bb-job-r1'))?.runId).toBe('r1');
      // A create that died between its lookups and its run item can simply be retried.
      await expect(state.createRun(runRecord('r3'))).resolves.toBeUndefined();
      expect((await state.findRunByBatchId('bb-r3'))?.runId).toBe('r3');
    });

    it('updates a run, stamps updatedAt and rejects invalid changes without storing them', async () => {
      const state = store();
      const run = runRecord('r1', { updatedAt: '2020-01-01T00:00:00.000Z' });
      await state.createRun(run);
      const next = await state.updateRun('r1', (r) => ({ ...r, phase: 'ingesting', listed: 5, skipped: { 'too-big': 2 } }));
      expect(next).toMatchObject({ phase: 'ingesting', listed: 5, skipped: { 'too-big': 2 } });
      expect(next.updatedAt > '2020-01-01T00:00:00.000Z').toBe(true);
      expect(await state.getRun('r1')).toEqual(next);

      await expect(state.updateRun('r1', (r) => ({ ...r, listed: 1.5 }))).rejects.toThrow();
      expect((await state.getRun('r1'))?.listed).toBe(5);
      await expect(state.updateRun('missing', (r) => r)).rejects.toThrow(/not found/);
    });

    it('lands all of 20 parallel increments (optimistic concurrency with retries)', async () => {
      const state = store();
      await state.createRun(runRecord('r1'));
      let calls = 0;
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          state.updateRun('r1', (r) => {
            calls++;
            return { ...r, listed: r.listed + 1 };
          }),
        ),
      );
      expect((await state.getRun('r1'))?.listed).toBe(20);
      expect(new Set(results.map((r) => r.listed))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i + 1)));
      expect(calls).toBeGreaterThan(20); // some changes lost a race and were applied again
    });

    it('gives up after the configured number of lost races', async () => {
      const state = store({ maxUpdateAttempts: 3 });
      await state.createRun(runRecord('r1'));
      // Another writer bumps the run's version between every read and write of this update.
      const original = ddb.doc.send.bind(ddb.doc) as (command: unknown) => Promise<unknown>;
      vi.spyOn(ddb.doc, 'send').mockImplementation((async (command: unknown) => {
        if ((command as { input: { ConditionExpression?: string } }).input.ConditionExpression === '#v = :read') {
          await original(
            new UpdateCommand({
              TableName: table,
              Key: keys.run('r1'),
              UpdateExpression: 'ADD #v :one',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':one': 1 },
            }),
          );
        }
        return original(command);
      }) as never);
      let calls = 0;
      const attempt = state.updateRun('r1', (r) => {
        calls++;
        return { ...r, listed: 100 };
      });
      await expect(attempt).rejects.toThrow(/lost the race 3 times/);
      expect(calls).toBe(3);
      vi.restoreAllMocks();
      expect((await state.getRun('r1'))?.listed).toBe(0);
    });
  });

  describe('chunks', () => {
    const chunk = (index: number, partition?: number): Chunk => ({
      ...(partition !== undefined && { partition }),
      index,
      ingestId: `bb-r1-${partition ?? 0}-${index}`,
      manifestKey: `m/${index}.jsonl`,
      references: 3,
      status: 'written',
    });

    it('keeps each chunk an item of its own beside the run, read back in (partition, index) order', async () => {
      const state = store({ pageSize: 2 });
      await state.createRun(runRecord('r1'));
      const written = [chunk(10), chunk(2, 1), chunk(0, 1), chunk(9), chunk(0), chunk(1, 12)];
      for (const c of written) await putChunk(state, 'r1', c);
      const read = await collect(state.chunks('r1'));
      expect(read.map((c) => [c.partition ?? 0, c.index])).toEqual([[0, 0], [0, 9], [0, 10], [1, 0], [1, 2], [12, 1]]);
      expect(await state.getChunk('r1', { index: 9 })).toEqual(chunk(9));
      expect(await state.getChunk('r1', { partition: 0, index: 9 })).toEqual(chunk(9));
      expect(await state.getChunk('r1', { partition: 1, index: 9 })).toBeUndefined();
      const item = await ddb.doc.send(new GetCommand({ TableName: table, Key: keys.chunk('r1', { partition: 1, index: 2 }) }));
      expect(item.Item).toMatchObject({ sk: 'CHUNK#000001-0000000002', status: 'written', version: 1 });
      expect(JSON.parse(String((await ddb.doc.send(new GetCommand({ TableName: table, Key: keys.run('r1') }))).Item?.record))).not.toHaveProperty('chunks');
      expect(await collect(state.chunks('other'))).toEqual([]);
    });

    it('lands all of 20 parallel changes of one chunk, and writes nothing when the change returns undefined', async () => {
      const state = store();
      await state.createRun(runRecord('r1'));
      await putChunk(state, 'r1', chunk(0));
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => state.updateChunk('r1', { index: 0 }, (c) => c && { ...c, shardIds: [...(c.shardIds ?? []), `s${i}`] })),
      );
      expect((await state.getChunk('r1', { index: 0 }))?.shardIds?.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`).sort());
      const before = await ddb.doc.send(new GetCommand({ TableName: table, Key: keys.chunk('r1', { index: 0 }) }));
      expect(await state.updateChunk('r1', { index: 0 }, () => undefined)).toMatchObject({ index: 0 });
      expect(await state.updateChunk('r1', { index: 5 }, () => undefined)).toBeUndefined();
      const after = await ddb.doc.send(new GetCommand({ TableName: table, Key: keys.chunk('r1', { index: 0 }) }));
      expect(after.Item?.version).toBe(before.Item?.version);
      expect(await state.getChunk('r1', { index: 5 })).toBeUndefined();
      await expect(state.updateChunk('r1', { index: 0 }, (c) => c && { ...c, index: 1 })).rejects.toThrow(/must not change its key/);
    });

    it('never moves a chunk back: a webhook that moved it on before the submitter recorded it keeps its status', async () => {
      const state = store();
      await state.createRun(runRecord('r1'));
      await putChunk(state, 'r1', chunk(0));
      await state.updateChunk('r1', { index: 0 }, (c) => c && { ...c, status: 'ingested' });
      await recordSubmitted(state, 'r1', { ...chunk(0), status: 'submitted', targetRef: 'bb-r1', shardIds: ['s1'], duplicated: false });
      expect(await state.getChunk('r1', { index: 0 })).toMatchObject({ status: 'ingested', targetRef: 'bb-r1', shardIds: ['s1'], duplicated: false });
      await putChunk(state, 'r1', chunk(1));
      await recordSubmitted(state, 'r1', { ...chunk(1), status: 'submitted' });
      expect((await state.getChunk('r1', { index: 1 }))?.status).toBe('submitted');
    });

    it('reads a run record written by the previous version with its chunks inline: the chunks become items, the record is written again without them', async () => {
      const state = store();
      const run = runRecord('old', { phase: 'ingesting', listed: 6, submitted: 6, checkpoint: { nextChunk: 2 } });
      await state.createRun(run);
      // What the previous version stored: the chunks inside the record (one already retried, the old way).
      const inline = [chunk(0), { ...chunk(1), status: 'submitted', targetRef: 'bpr_retry' }];
      const legacy = { ...run, chunks: inline, resubmitted: { 'in__x.jpg': 'bpr_retry' } };
      await ddb.doc.send(new PutCommand({ TableName: table, Item: { ...keys.run('old'), record: JSON.stringify(legacy), version: 7, runId: 'old', phase: run.phase } }));
      // A webhook handled by the new version meanwhile already moved chunk 0 on: its item is newer and kept.
      await putChunk(state, 'old', { ...chunk(0), status: 'ingested' });

      const read = await state.getRun('old');
      expect(read).toEqual({ ...run, retried: true });
      expect(await collect(state.chunks('old'))).toEqual([
        { ...chunk(0), status: 'ingested' },
        { ...chunk(1), status: 'submitted', targetRef: 'bpr_retry', retry: true },
      ]);
      const stored = (await ddb.doc.send(new GetCommand({ TableName: table, Key: keys.run('old') }))).Item!;
      expect(stored.version).toBe(8);
      expect(JSON.parse(String(stored.record))).not.toHaveProperty('chunks');

      // An update of a record still in the old form migrates it first too.
      await ddb.doc.send(new PutCommand({ TableName: table, Item: { ...keys.run('old'), record: JSON.stringify({ ...legacy, chunks: [chunk(2)] }), version: 9 } }));
      expect((await state.updateRun('old', (r) => ({ ...r, listed: 9 }))).listed).toBe(9);
      expect((await collect(state.chunks('old'))).map((c) => c.index)).toEqual([0, 1, 2]);
      expect(JSON.parse(String((await ddb.doc.send(new GetCommand({ TableName: table, Key: keys.run('old') }))).Item!.record))).not.toHaveProperty('chunks');
    });
  });

  describe('webhook events', () => {
    it('records an event id once and gives it a 30-day TTL', async () => {
      const state = store();
      expect(await state.hasEvent('e1')).toBe(false);
      expect(await state.recordEvent('e1')).toBe(true);
      expect(await state.recordEvent('e1')).toBe(false);
      expect(await state.hasEvent('e1')).toBe(true);
      expect(await state.hasEvent('e2')).toBe(false);
      const { Item } = await ddb.doc.send(new GetCommand({ TableName: table, Key: keys.event('e1') }));
      const expected = Date.now() / 1000 + 30 * 24 * 3600;
      expect(Item?.[STATE_TABLE_KEYS.ttlAttribute]).toBeGreaterThan(expected - 60);
      expect(Item?.[STATE_TABLE_KEYS.ttlAttribute]).toBeLessThanOrEqual(expected + 1);
    });

    it('answers true to exactly one of 10 parallel recordEvent calls', async () => {
      const state = store();
      const answers = await Promise.all(Array.from({ length: 10 }, () => state.recordEvent('same')));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('names', () => {
    it('pages 250 names in a stable order and resolves them in chunks', async () => {
      const state = store({ pageSize: 100 });
      const entries = Array.from({ length: 250 }, (_, i) => ({ name: `in__${String(i).padStart(3, '0')}.jpg`, key: `in/${i}.jpg` }));
      await state.appendNames('r1', entries.slice(0, 120));
      await state.appendNames('r1', entries.slice(120));
      await state.appendNames('r1', entries.slice(0, 30)); // a replayed append changes nothing

      const send = vi.spyOn(ddb.doc, 'send');
      const first = await collect(state.names('r1'));
      const queries = send.mock.calls.filter(([c]) => c instanceof QueryCommand).length;
      send.mockRestore();
      expect(queries).toBeGreaterThanOrEqual(3);
      expect(first).toHaveLength(250);
      expect(new Set(first.map((e) => e.name)).size).toBe(250);
      expect(first).toEqual([...entries].sort((a, b) => (a.name < b.name ? -1 : 1)));
      expect(await collect(state.names('r1'))).toEqual(first);
      expect(await collect(state.names('other'))).toEqual([]);

      const wanted = [...entries.slice(0, 140).map((e) => e.name), 'in__missing.jpg', 'in__000.jpg'];
      const resolved = await state.resolveNames('r1', wanted);
      expect(resolved.size).toBe(140);
      expect(resolved.get('in__007.jpg')).toBe('in/7.jpg');
      expect(resolved.has('in__missing.jpg')).toBe(false);
      expect((await state.resolveNames('r1', [])).size).toBe(0);
    });

    it('keeps names longer than a sort key allows, and the last key given for a name', async () => {
      const state = store();
      const long = `in__${'ü'.repeat(700)}.jpg`;
      await state.appendNames('r1', [
        { name: long, key: 'in/long.jpg' },
        { name: 'dup', key: 'in/first.jpg' },
        { name: 'dup', key: 'in/second.jpg' },
      ]);
      expect(await state.resolveNames('r1', [long, 'dup'])).toEqual(new Map([[long, 'in/long.jpg'], ['dup', 'in/second.jpg']]));
      expect(await collect(state.names('r1'))).toHaveLength(2);
    });
  });

  describe('failures', () => {
    it('keeps the first failure per (stage, name), across calls and in parallel', async () => {
      const state = store();
      const f = (name: string, stage: FileFailure['stage'], reason: string): FileFailure => ({ name, stage, type: 'file-download-failed', reason });
      await state.recordFailures('r1', [f('a', 'ingest', 'first'), f('a', 'ingest', 'second'), f('a', 'export', 'export one'), { ...f('b', 'ingest', 'x'), key: 'in/b.jpg' }]);
      await state.recordFailures('r1', [f('a', 'ingest', 'third')]);
      await Promise.all(Array.from({ length: 5 }, (_, i) => state.recordFailures('r1', [f('c', 'ingest', `c${i}`), f('b', 'ingest', 'y')])));
      const stored = await collect(state.failures('r1'));
      expect(stored).toHaveLength(4);
      expect(stored.find((x) => x.name === 'a' && x.stage === 'ingest')?.reason).toBe('first');
      expect(stored.find((x) => x.name === 'a' && x.stage === 'export')?.reason).toBe('export one');
      expect(stored.find((x) => x.name === 'b')).toEqual({ ...f('b', 'ingest', 'x'), key: 'in/b.jpg' });
      expect(stored.filter((x) => x.name === 'c')).toHaveLength(1);
      await state.recordFailures('r1', []);
      expect(await collect(state.failures('r2'))).toEqual([]);
    });
  });

  describe('export tasks', () => {
    const task = (taskId: string, extra: Partial<ExportTaskResult> = {}): ExportTaskResult => ({ taskId, part: 'p1', files: 1, bytes: 100, ...extra });

    // Completion itself (told once, bounded reads): test/integration/export-completion.test.ts.
    it('counts each task id once and keeps its first outcome', async () => {
      const state = store();
      expect(await state.recordExportTask('r1', task('t1'))).toEqual({ complete: false });
      expect(await state.recordExportTask('r1', task('t1', { files: 99 }))).toEqual({ complete: false });
      expect(await state.recordExportTask('r1', task('t2', { failure: { type: 'export-failed', reason: 'boom' } }))).toEqual({ complete: false });
      expect(await state.recordExportTask('r2', task('t1'))).toEqual({ complete: false });
      const results = await collect(state.exportTaskResults('r1'));
      expect(results).toEqual([task('t1'), task('t2', { failure: { type: 'export-failed', reason: 'boom' } })]);
    });

    it('counts 10 parallel records of one task once', async () => {
      const state = store();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => state.recordExportTask('r1', task('t1', { bytes: i }))));
      expect(answers.every((a) => !a.complete)).toBe(true);
      const results = await collect(state.exportTaskResults('r1'));
      expect(results).toHaveLength(1);
    });

    it('counts distinct tasks correctly while each is delivered several times in parallel', async () => {
      const state = store();
      const deliveries = Array.from({ length: 8 }, (_, i) => `t${i}`).flatMap((id) => [id, id, id]);
      await Promise.all(deliveries.map((id) => state.recordExportTask('r1', task(id))));
      expect(await collect(state.exportTaskResults('r1'))).toHaveLength(8);
      await state.recordExportTask('r1', task('t3'));
      expect(await collect(state.exportTaskResults('r1'))).toHaveLength(8);
    });

    it('resetExport forgets task outcomes and export failures but keeps ingest failures', async () => {
      const state = store({ pageSize: 3 });
      for (let i = 0; i < 7; i++) await state.recordExportTask('r1', task(`t${i}`));
      await state.recordFailures('r1', [
        { name: 'x', stage: 'export', type: 'export-failed', reason: 'r' },
        { name: 'x', stage: 'ingest', type: 'file-download-failed', reason: 'r' },
      ]);
      await state.resetExport('r1');
      await state.resetExport('r1'); // idempotent
      expect(await collect(state.exportTaskResults('r1'))).toEqual([]);
      expect((await collect(state.failures('r1'))).map((f) => f.stage)).toEqual(['ingest']);
      expect(await state.recordExportTask('r1', task('t0', { files: 2 }))).toEqual({ complete: false });
      expect(await collect(state.exportTaskResults('r1'))).toEqual([task('t0', { files: 2 })]);
    });
  });

  describe('object ledger', () => {
    it('reports a version as submitted only while its ETag (or size and mtime) is unchanged', async () => {
      const ledger = new DynamoObjectLedger(ddb.doc, table, FAST);
      const mtime = new Date('2024-05-01T10:00:00.000Z');
      const objects = [obj('in/a.jpg', '"e1"'), obj('in/b.jpg', '"e2"'), obj('in/noetag.jpg', undefined, 5, mtime)];
      expect(await ledger.submitted('media', objects)).toEqual(new Set());
      await ledger.record('media', objects, 'r1');
      await ledger.record('media', objects, 'r1'); // idempotent

      expect(await ledger.submitted('media', objects)).toEqual(new Set(['in/a.jpg', 'in/b.jpg', 'in/noetag.jpg']));
      const changed = [obj('in/a.jpg', '"e1-new"'), obj('in/b.jpg', '"e2"'), obj('in/noetag.jpg', undefined, 6, mtime), obj('in/new.jpg', '"e3"')];
      expect(await ledger.submitted('media', changed)).toEqual(new Set(['in/b.jpg']));
      expect(await ledger.submitted('other-bucket', objects)).toEqual(new Set());

      await ledger.record('media', [obj('in/a.jpg', '"e1-new"')], 'r2');
      expect(await ledger.submitted('media', changed)).toEqual(new Set(['in/a.jpg', 'in/b.jpg']));
    });

    it('handles more objects than one batch request holds', async () => {
      const ledger = new DynamoObjectLedger(ddb.doc, table, FAST);
      const many = Array.from({ length: 260 }, (_, i) => obj(`in/${i}.jpg`, `"e${i}"`));
      await ledger.record('media', many.slice(0, 130), 'r1');
      const seen = await ledger.submitted('media', many);
      expect(seen.size).toBe(130);
      expect(seen.has('in/0.jpg') && seen.has('in/129.jpg') && !seen.has('in/130.jpg')).toBe(true);
    });
  });

  describe('pending objects', () => {
    const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));

    it('adds object versions once, moving lastEventAt only when something new arrives', async () => {
      const pending = new DynamoPendingObjects(ddb.doc, table, FAST);
      expect(await pending.state('src')).toBeUndefined();
      const a = obj('in/a.jpg', '"a1"', 1, new Date('2024-01-02T03:04:05.678Z'));
      const b = obj('in/b.jpg', '"b1"', 2);
      expect(await pending.add('src', [a, b, a], t(1))).toEqual({ pending: 2, lastEventAt: t(1) });
      expect(await pending.add('src', [a, b], t(5))).toEqual({ pending: 2, lastEventAt: t(1) }); // replay
      expect(await pending.add('src', [b, obj('in/a.jpg', '"a2"', 1)], t(7))).toEqual({ pending: 3, lastEventAt: t(7) }); // new version
      expect(await pending.add('src', [obj('in/c.jpg', '"c1"')], t(6))).toEqual({ pending: 4, lastEventAt: t(7) }); // late event
      expect(await pending.state('src')).toEqual({ pending: 4, lastEventAt: t(7) });
      expect(await pending.state('other')).toBeUndefined();

      const claimed = await pending.claim('src', 10);
      expect(claimed).toHaveLength(4);
      expect(claimed).toContainEqual(a); // Date and ETag round-trip
      expect(claimed).toContainEqual(b);
      expect(claimed.find((o) => o.key === 'in/a.jpg' && o.etag === '"a1"')?.lastModified).toBeInstanceOf(Date);
      expect(await pending.state('src')).toEqual({ pending: 0, lastEventAt: t(7) });
      expect(await pending.claim('src', 10)).toEqual([]);
    });

    it('counts parallel replays of the same event once', async () => {
      const pending = new DynamoPendingObjects(ddb.doc, table, FAST);
      const objects = Array.from({ length: 12 }, (_, i) => obj(`in/${i}.jpg`, `"e${i}"`));
      await Promise.all(Array.from({ length: 6 }, () => pending.add('src', objects, t(3))));
      expect(await pending.state('src')).toEqual({ pending: 12, lastEventAt: t(3) });
      expect(await pending.claim('src', 100)).toHaveLength(12);
    });

    it('claims in portions of at most max and lowers the count', async () => {
      const pending = new DynamoPendingObjects(ddb.doc, table, FAST);
      await pending.add('src', Array.from({ length: 25 }, (_, i) => obj(`in/${String(i).padStart(2, '0')}.jpg`, `"e${i}"`)), t(1));
      const first = await pending.claim('src', 10);
      expect(first).toHaveLength(10);
      expect((await pending.state('src'))?.pending).toBe(15);
      const rest = await pending.claim('src', 100);
      expect(rest).toHaveLength(15);
      expect(new Set([...first, ...rest].map((o) => o.key)).size).toBe(25);
      expect((await pending.state('src'))?.pending).toBe(0);
      expect(await pending.claim('src', 0)).toEqual([]);
    });

    it('never hands one object to two concurrent claims', async () => {
      const pending = new DynamoPendingObjects(ddb.doc, table, FAST);
      const objects = Array.from({ length: 30 }, (_, i) => obj(`in/${String(i).padStart(2, '0')}.jpg`, `"e${i}"`));
      await pending.add('src', objects, t(1));
      const [one, two] = await Promise.all([pending.claim('src', 20), pending.claim('src', 20)]);
      expect(one.length).toBeLessThanOrEqual(20);
      expect(two.length).toBeLessThanOrEqual(20);
      const keysOne = new Set(one.map((o) => o.key));
      expect(two.filter((o) => keysOne.has(o.key))).toEqual([]);
      expect(new Set([...one, ...two].map((o) => o.key))).toEqual(new Set(objects.map((o) => o.key)));
      expect(await pending.state('src')).toEqual({ pending: 0, lastEventAt: t(1) });
    });

    it('recreates a missing window when a replay finds its objects already stored', async () => {
      const pending = new DynamoPendingObjects(ddb.doc, table, FAST);
      const objects = [obj('in/a.jpg', '"a"'), obj('in/b.jpg', '"b"')];
      await pending.add('src', objects, t(1));
      // As if the first attempt died after storing the objects, before writing the window.
      await ddb.doc.send(new DeleteCommand({ TableName: table, Key: keys.pendingWindow('src') }));
      expect(await pending.state('src')).toBeUndefined();
      expect(await pending.add('src', objects, t(9))).toEqual({ pending: 2, lastEventAt: t(9) });
      expect(await pending.claim('src', 5)).toHaveLength(2);
      expect(await pending.state('src')).toEqual({ pending: 0, lastEventAt: t(9) });
    });
  });

  it('never scans the table', async () => {
    const send = vi.spyOn(ddb.doc, 'send');
    const state = store({ pageSize: 2 });
    await state.createRun(runRecord('r1'));
    await state.appendNames('r1', [{ name: 'a', key: 'k' }]);
    await collect(state.names('r1'));
    await state.recordExportTask('r1', { taskId: 't', part: 'p', files: 0, bytes: 0 });
    await state.resetExport('r1');
    const pending = new DynamoPendingObjects(ddb.doc, table, FAST);
    await pending.add('s', [obj('a', '"1"')], new Date());
    await pending.claim('s', 1);
    const names = send.mock.calls.map(([c]) => c.constructor.name);
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((n) => /Scan/.test(n))).toEqual([]);
    expect(names).toContain(QueryCommand.name);
  });
});
