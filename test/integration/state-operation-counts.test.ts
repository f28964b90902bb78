import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { mapLimit } from '../../shared/concurrency';
import { advance, applyEvent } from '../../shared/pipeline/chain';
import { finishExport, recordTaskOutcome } from '../../shared/pipeline/export';
import { createRun } from '../../shared/run/start-run';
import { continueSubmission } from '../../shared/run/submit-run';
import { DynamoObjectLedger, DynamoStateStore } from '../../shared/state/dynamo';
import { createDocumentClient } from '../../shared/state/dynamo/table';
import { readChunks } from '../../shared/state/run-chunks';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { specFor, stackDeps } from '../support/domain';

const READS = new Set(['GetCommand', 'QueryCommand', 'BatchGetCommand']);

interface Tally {
  requests: Record<string, number>;
  /** Capacity units DynamoDB (dynalite) reports: reads in 4 KB units (strongly consistent), writes in 1 KB units. */
  readUnits: number;
  writeUnits: number;
}

const emptyTally = (): Tally => ({ requests: {}, readUnits: 0, writeUnits: 0 });

/** A document client that counts every request by command and sums the capacity each consumed. */
function countingClient(ddb: TestDynamo): { doc: DynamoDBDocumentClient; take(): Tally } {
  const doc = createDocumentClient(ddb.client);
  let tally = emptyTally();
  const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
  doc.send = (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    command.input.ReturnConsumedCapacity = 'TOTAL';
    const res = (await send(command)) as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> };
    const name = command.constructor.name;
    tally.requests[name] = (tally.requests[name] ?? 0) + 1;
    const consumed = [res.ConsumedCapacity ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
    if (READS.has(name)) tally.readUnits += consumed;
    else tally.writeUnits += consumed;
    return res;
  }) as never;
  return {
    doc,
    take() {
      const taken = tally;
      tally = emptyTally();
      return taken;
    },
  };
}

const OBJECTS = 200;
const PER_CHUNK = 50;
const RESULT_FILES = 200;

describe('DynamoDB requests and capacity of a run, per object and per chunk (dynalite, counted)', () => {
  let stack: LocalStack;
  let ddb: TestDynamo;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['count'], emulator: { ingestDelayMs: 5, jobStageDelayMs: 10 } });
    ddb = await startDynalite();
    await mapLimit(Array.from({ length: OBJECTS }, (_, i) => `in/site-${i % 7}/frame-${String(i).padStart(5, '0')}.jpg`), 16, (key) => stack.store('count').write(key, fakeImage(key)));
  }, 60_000);
  afterAll(async () => {
    await ddb?.close();
    await stack?.close();
  });

  it('submission, ingest and export: writes per object are a fraction of one (batched), the run item is touched once per chunk', async () => {
    const table = await ddb.createStateTable('bb-count');
    const counting = countingClient(ddb);
    const state = new DynamoStateStore(counting.doc, table);
    const deps = await stackDeps(stack, 'count', { state, ledger: new DynamoObjectLedger(counting.doc, table), pageSize: PER_CHUNK, chunkSize: PER_CHUNK });
    const run = await createRun(deps, specFor('s3://count/in/', 's3://count/out/'));
    counting.take();

    expect(await continueSubmission(deps, run.runId)).toBe('submitted');
    const submission = counting.take();
    const chunks = await readChunks(state, run.runId);
    expect(chunks).toHaveLength(OBJECTS / PER_CHUNK);
    counting.take();

    // Ingest: one notification per chunk, each followed by a look at readiness (webhook mode).
    const outcomes: string[] = [];
    for (const chunk of chunks) {
      await applyEvent(deps, { kind: 'ingest-status', eventId: `ingest-${chunk.index}`, batchId: run.batchId, ingestId: chunk.ingestId, success: true });
      outcomes.push((await advance(deps, run.runId, { awaitIngestEvents: true })).state);
    }
    const deadline = Date.now() + 20_000;
    while (outcomes.at(-1) === 'waiting' && Date.now() < deadline) outcomes.push((await advance(deps, run.runId, { awaitIngestEvents: true })).state);
    expect(outcomes.filter((o) => o === 'started')).toHaveLength(1);
    expect((await state.getRun(run.runId))?.jobStarted).toBe(true);
    const ingest = counting.take();

    // Export: one outcome per result file, as the copy workers record them, then the run ends.
    await state.updateRun(run.runId, (r) => ({ ...r, phase: 'exporting', exportTasks: RESULT_FILES }));
    counting.take();
    for (let i = 0; i < RESULT_FILES; i++) {
      const task = { taskId: `job/export/results-${i}.json`, part: 'export', fileName: `results-${i}.json`, locator: { kind: 'url' as const, url: 'http://127.0.0.1/unused' }, order: { pass: 0, index: i } };
      await recordTaskOutcome(state, run.runId, task, { taskId: task.taskId, part: task.part, files: 1, bytes: 900 });
    }
    const exportTasks = counting.take();
    expect(await finishExport(deps, run.runId)).toBe('completed');
    const finish = counting.take();

    const per = (t: Tally, n: number) => ({
      requests: Object.fromEntries(Object.entries(t.requests).map(([k, v]) => [k, +(v / n).toFixed(3)])),
      readUnits: +(t.readUnits / n).toFixed(3),
      writeUnits: +(t.writeUnits / n).toFixed(3),
    });
    // The README's cost note is read from these: BUCKET_BRIDGE_PRINT_COUNTS=1 prints them.
    if (process.env.BUCKET_BRIDGE_PRINT_COUNTS) console.info(
      JSON.stringify(
        {
          objects: OBJECTS,
          perChunk: PER_CHUNK,
          submissionPerObject: per(submission, OBJECTS),
          submissionPerChunk: per(submission, chunks.length),
          ingestPerChunk: per(ingest, chunks.length),
          exportPerResultFile: per(exportTasks, RESULT_FILES),
          finishExport: finish,
        },
        null,
        1,
      ),
    );

    // Names and ledger entries go 25 to a BatchWriteItem request: about 2/25 of a request per object.
    expect(submission.requests.BatchWriteCommand).toBeLessThanOrEqual(2 * Math.ceil(PER_CHUNK / 25) * chunks.length);
    // One write unit per name and per ledger item (each under 1 KB), plus the run and chunk items per chunk.
    expect(submission.writeUnits / OBJECTS).toBeLessThan(2.5);
    // No request per object outside the batches.
    expect((submission.requests.PutCommand ?? 0) + (submission.requests.GetCommand ?? 0)).toBeLessThan(OBJECTS / 4);
  }, 120_000);
});
