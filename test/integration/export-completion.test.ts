import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../shared/concurrency';
import { newRunRecord } from '../../shared/run/start-run';
import { DynamoStateStore } from '../../shared/state/dynamo';
import { createDocumentClient } from '../../shared/state/dynamo/table';
import { EXPORT_GROUP_SIZE, type ExportTaskOrder } from '../../shared/state/export-order';
import type { StateStore } from '../../shared/state/port';
import type { ExportTaskResult } from '../../shared/state/run-record';
import { specFor } from '../support/domain';
import { startDynalite, type TestDynamo } from '../support/dynalite';

/** A document client that counts the items each request read (a COUNT query reads every item it counts). */
function itemCountingClient(ddb: TestDynamo): { doc: DynamoDBDocumentClient; take(): number } {
  const doc = createDocumentClient(ddb.client);
  let read = 0;
  const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
  doc.send = (async (command: unknown) => {
    const res = (await send(command)) as { ScannedCount?: number; Item?: unknown; Responses?: Record<string, unknown[]> };
    read += res.ScannedCount ?? (res.Item ? 1 : 0) + Object.values(res.Responses ?? {}).reduce((n, items) => n + items.length, 0);
    return res;
  }) as never;
  return {
    doc,
    take() {
      const taken = read;
      read = 0;
      return taken;
    },
  };
}

const outcome = (i: number): ExportTaskResult => ({ taskId: `job/export/results-${i}.json`, part: 'export', files: 1, bytes: 900 });
const order = (index: number, pass = 0): ExportTaskOrder => ({ pass, index });

/** Deterministic shuffle (a fixed LCG), so a failure replays the same order. */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Every task 1 to 3 times (duplicate deliveries), in a shuffled order. */
const deliveries = (n: number) => shuffled(Array.from({ length: n }, (_, i) => Array.from({ length: 1 + (i % 3) }, () => i)).flat());

describe('export completion: bounded reads per result file, told once (DynamoDB on dynalite)', () => {
  let ddb: TestDynamo;
  let table: string;
  let runs = 0;

  beforeAll(async () => {
    ddb = await startDynalite();
    table = await ddb.createStateTable('bb-export-completion');
  }, 30_000);
  afterAll(async () => {
    await ddb?.close();
  });

  /** Groups of 4: a few dozen tasks make a tree of several levels, quickly. */
  const SMALL = 4;
  const smallGroups = () => new DynamoStateStore(createDocumentClient(ddb.client), table, { exportGroupSize: SMALL });

  async function newRun(state: StateStore, exportTasks?: number, retried = false): Promise<string> {
    const runId = `r${++runs}`;
    await state.createRun({ ...newRunRecord(runId, specFor('s3://media/in/', 's3://media/out/')), phase: 'exporting', exportTasks, retried });
    return runId;
  }

  /** Records every delivery at once; returns the task ids told the export is complete. */
  async function recordAll(state: StateStore, runId: string, indexes: number[], pass = 0): Promise<string[]> {
    const answers = await Promise.all(indexes.map(async (i) => ({ i, ...(await state.recordExportTask(runId, outcome(i), order(i, pass))) })));
    return answers.filter((a) => a.complete).map((a) => outcome(a.i).taskId);
  }

  it('reads at most one group and the group counts per outcome, not every outcome: 2,000 result files', async () => {
    const N = 2_000;
    const counting = itemCountingClient(ddb);
    const state = new DynamoStateStore(counting.doc, table);
    const runId = await newRun(state, N);
    const perRecord: number[] = [];
    const told: number[] = [];
    counting.take();
    for (let i = 0; i < N; i++) {
      if ((await state.recordExportTask(runId, outcome(i), order(i))).complete) told.push(i);
      perRecord.push(counting.take());
    }
    const groups = Math.ceil(N / EXPORT_GROUP_SIZE);
    const max = Math.max(...perRecord);
    const mean = perRecord.reduce((a, b) => a + b, 0) / N;
    console.info(JSON.stringify({ resultFiles: N, groupSize: EXPORT_GROUP_SIZE, itemsReadPerRecord: { max, mean: +mean.toFixed(1), last: perRecord.at(-1) } }));
    // The group's marks, the group marks of the root, and the run item (read at most twice).
    expect(max).toBeLessThanOrEqual(EXPORT_GROUP_SIZE + groups + 2);
    expect(mean).toBeLessThan(EXPORT_GROUP_SIZE);
    expect(told).toEqual([N - 1]);
  }, 120_000);

  it('tells exactly one task id under parallel and duplicate deliveries, the last group smaller than the rest', async () => {
    const state = new DynamoStateStore(createDocumentClient(ddb.client), table);
    const N = 2 * EXPORT_GROUP_SIZE + 37;
    const runId = await newRun(state, N);
    const told = await recordAll(state, runId, deliveries(N));
    expect(new Set(told).size).toBe(1);
    // A later copy of another task is not told again; a copy of the one told is (its finisher may have died).
    const other = told[0] === outcome(0).taskId ? 1 : 0;
    expect(await state.recordExportTask(runId, outcome(other), order(other))).toEqual({ complete: false });
    const teller = Number(/results-(\d+)/.exec(told[0])![1]);
    expect(await state.recordExportTask(runId, outcome(teller), order(teller))).toEqual({ complete: true });
    expect(await state.checkExportComplete(runId)).toEqual({ complete: false });
  }, 60_000);

  it('tells the planner when every task finished before the total was known (a tree of 4 levels)', async () => {
    const state = smallGroups();
    const N = SMALL ** 3 + 1;
    const runId = await newRun(state);
    expect(await recordAll(state, runId, deliveries(N))).toEqual([]);
    expect(await state.checkExportComplete(runId)).toEqual({ complete: false });
    await state.updateRun(runId, (r) => ({ ...r, exportTasks: N }));
    expect(await state.checkExportComplete(runId)).toEqual({ complete: true });
    expect(await state.recordExportTask(runId, outcome(N - 1), order(N - 1))).toEqual({ complete: false });
  }, 60_000);

  it('tells exactly once when the total is stored while outcomes are being recorded (a tree of 4 levels)', async () => {
    const state = smallGroups();
    const N = 2 * SMALL ** 3 + 3;
    const runId = await newRun(state);
    const all = deliveries(N);
    const early = all.slice(0, all.length / 2);
    const late = all.slice(all.length / 2);
    const planner = (async () => {
      await state.updateRun(runId, (r) => ({ ...r, exportTasks: N }));
      return (await state.checkExportComplete(runId)).complete ? ['#plan'] : [];
    })();
    const told = [...(await recordAll(state, runId, early)), ...(await planner), ...(await recordAll(state, runId, late))];
    expect(new Set(told).size).toBe(1);
  }, 60_000);

  it('an empty export is complete as soon as the planner stored its total', async () => {
    const state = new DynamoStateStore(createDocumentClient(ddb.client), table);
    const runId = await newRun(state, 0);
    expect(await state.checkExportComplete(runId)).toEqual({ complete: true });
  });

  it('tasks numbered by a plan a retry pass replaced do not complete the new plan', async () => {
    const state = smallGroups();
    const N = SMALL ** 2 + 5;
    const runId = await newRun(state, N, true);
    const indexes = Array.from({ length: N }, (_, i) => i);
    expect(await recordAll(state, runId, indexes, 0)).toEqual([]);
    expect(new Set(await recordAll(state, runId, indexes, 1)).size).toBe(1);
  }, 60_000);

  it('messages without an order (sent before tasks were numbered) are counted as before, mixed with numbered ones', async () => {
    const state = smallGroups();
    const N = SMALL ** 2 + 10;
    const runId = await newRun(state, N);
    // A stack upgraded while planning: the odd tasks' first messages carry no order, and the plan
    // made again sends every task numbered.
    const unordered = Array.from({ length: N }, (_, i) => i).filter((i) => i % 2 === 1);
    const messages = shuffled([...unordered.map((i) => ({ i, order: undefined })), ...deliveries(N).map((i) => ({ i, order: order(i) }))]);
    const answers = await mapLimit(messages, 16, async (m) => ({ i: m.i, ...(await state.recordExportTask(runId, outcome(m.i), m.order)) }));
    expect(new Set(answers.filter((a) => a.complete).map((a) => a.i)).size).toBe(1);
    const results: ExportTaskResult[] = [];
    for await (const r of state.exportTaskResults(runId)) results.push(r);
    expect(results).toHaveLength(N);
  }, 60_000);

  it('resetExport forgets the marks and the claim: the export can complete again', async () => {
    const state = smallGroups();
    const N = SMALL + 3;
    const runId = await newRun(state, N);
    const indexes = Array.from({ length: N }, (_, i) => i);
    expect(await recordAll(state, runId, indexes)).toHaveLength(1);
    await state.resetExport(runId);
    expect(await state.recordExportTask(runId, outcome(0), order(0))).toEqual({ complete: false });
    expect(await recordAll(state, runId, indexes.slice(1))).toHaveLength(1);
  }, 60_000);
});
