import { createRequire } from 'node:module';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../shared/concurrency';
import { keepSkippedKey, SKIPPED_KEYS_KEPT } from '../../shared/pipeline/skip-samples';
import { newRunRecord } from '../../shared/run/start-run';
import { DynamoStateStore } from '../../shared/state/dynamo';
import { keys } from '../../shared/state/dynamo/table';
import { putChunk, readChunks } from '../../shared/state/run-chunks';
import type { Chunk, FileFailure } from '../../shared/state/run-record';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { specFor } from '../support/domain';

/** DynamoDB's own item size rule, as dynalite applies it against the 400 KB item limit. */
const { itemSize } = createRequire(import.meta.url)('dynalite/db') as { itemSize(item: unknown): number };

const CHECKPOINT_EVERY = 100;
/** Chunks and failures of the big run: 2,000 chunks of 20,000 images are a 40M-object run. */
const BIG = 2_000;
const SKIP_REASONS = ['not-media', 'too-large', 'bridge-output', 'empty', 'already-submitted'];

describe('the run item stays constant-size however large the run (DynamoDB, dynalite)', () => {
  let ddb: TestDynamo;
  let table: string;

  beforeAll(async () => {
    ddb = await startDynalite();
    table = await ddb.createStateTable('bb-bounded');
  });
  afterAll(() => ddb.close());

  const chunkOf = (index: number): Chunk => ({
    index,
    ingestId: `bb-big-${index}`,
    manifestKey: `bucket-bridge/manifests/run/references-${String(index).padStart(5, '0')}.jsonl`,
    references: 20_000,
    status: 'written',
  });

  /**
   * A run driven through the state port as submission, webhooks and export leave it: every chunk
   * an item (submitted, then ingested or failed), a checkpoint per 100 chunks, `failures` per-file
   * failures, every skip reason with its samples full, and the export's totals.
   */
  async function bigRun(state: DynamoStateStore, runId: string, chunks: number, failures: number) {
    await state.createRun({ ...newRunRecord(runId, specFor('s3://media/camera-uploads/2026/', 's3://results/bridge/')), batchId: `bb-${runId}`, jobId: `bb-job-${runId}` });
    const skippedKeys: Record<string, string[]> = {};
    for (const reason of SKIP_REASONS) for (let i = 0; i < 2 * SKIPPED_KEYS_KEPT; i++) keepSkippedKey(skippedKeys, reason, `camera-uploads/2026/11/24/site-${i}/frame-${i}.${reason}`);
    for (let first = 0; first < chunks; first += CHECKPOINT_EVERY) {
      const indices = Array.from({ length: Math.min(CHECKPOINT_EVERY, chunks - first) }, (_, i) => first + i);
      await mapLimit(indices, 16, (index) =>
        putChunk(state, runId, {
          ...chunkOf(index),
          status: index % 7 === 0 ? 'failed' : 'ingested',
          targetRef: `bb-${runId}`,
          shardIds: [`shard-${index}-a`, `shard-${index}-b`],
          ...(index % 7 === 0 && { error: 'ingest failed: 12 files could not be fetched' }),
        }),
      );
      const next = first + indices.length;
      // The checkpoint: constant-size counts and position only.
      await state.updateRun(runId, (r) => ({
        ...r,
        listed: next * 20_100,
        submitted: next * 20_000,
        skipped: Object.fromEntries(SKIP_REASONS.map((reason) => [reason, next * 20])),
        skippedKeys,
        checkpoint: { nextToken: `after:camera-uploads/2026/11/24/site-${next}/frame-99999.jpg`, nextChunk: next },
      }));
    }
    const failed: FileFailure[] = Array.from({ length: failures }, (_, i) => ({
      name: `camera-uploads__2026__11__24__site-${i}__frame-${i}.jpg`,
      key: `camera-uploads/2026/11/24/site-${i}/frame-${i}.jpg`,
      stage: i % 2 === 0 ? 'ingest' : 'export',
      type: 'not-ingested',
      reason: 'not in the staged batch after ingest ended',
    }));
    await state.recordFailures(runId, failed);
    await state.updateRun(runId, (r) => ({
      ...r,
      phase: 'completed',
      submissionComplete: true,
      jobStarted: true,
      jobState: 'success',
      ingested: r.submitted - failures,
      exportTasks: 4 * chunks,
      exported: { files: r.submitted, bytes: r.submitted * 2_048 },
      timings: { submittedAt: r.createdAt, jobStartedAt: r.createdAt, jobFinishedAt: r.createdAt, finishedAt: r.createdAt },
    }));
  }

  async function runItem(runId: string) {
    const res = await ddb.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: keys.run(runId).pk }, sk: { S: 'RUN' } }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
    return { bytes: itemSize(res.Item), readUnits: res.ConsumedCapacity?.CapacityUnits };
  }

  it('10 chunks and 10 failures, or 2,000 chunks and 2,000 failures: the same run item size, under 8 KB', async () => {
    const state = new DynamoStateStore(ddb.doc, table, { retryBaseMs: 2 });
    await bigRun(state, 'small', 10, 10);
    await bigRun(state, 'big', BIG, BIG);
    const small = await runItem('small');
    const big = await runItem('big');
    const chunks = await readChunks(state, 'big');
    expect(chunks.map((c) => c.index)).toEqual(Array.from({ length: BIG }, (_, i) => i));
    expect(chunks.filter((c) => c.status === 'failed')).toHaveLength(Math.ceil(BIG / 7));
    let failures = 0;
    for await (const _ of state.failures('big')) failures++;
    expect(failures).toBe(BIG);

    expect(big.bytes).toBeLessThan(8 * 1024);
    // Only the counts' digits differ.
    expect(Math.abs(big.bytes - small.bytes)).toBeLessThan(64);
    expect(big.readUnits).toBe(small.readUnits);
    // What the previous version kept in the one item: every chunk inline, over DynamoDB's 400 KB limit.
    const inline = JSON.stringify(chunks).length;
    expect(inline).toBeGreaterThan(400 * 1024);
    console.info(`run item: ${small.bytes} B with 10 chunks, ${big.bytes} B with ${BIG} chunks and ${BIG} failures (${big.readUnits} read unit); the ${BIG} chunks inline would add ${Math.round(inline / 1024)} KB`);
  }, 120_000);
});
