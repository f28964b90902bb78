import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import { silentLogger } from '../../shared/log';
import { noProgress } from '../../shared/progress';
import type { BridgeDeps } from '../../shared/run/deps';
import { sendLost } from '../../shared/run/partitions/fan-out';
import { completePartition, joinPartitions } from '../../shared/run/partitions/join';
import type { ServerlessPorts } from '../../shared/run/serverless-ports';
import { newRunRecord } from '../../shared/run/start-run';
import { DynamoStateStore } from '../../shared/state/dynamo';
import { FileStateStore } from '../../shared/state/file-state';
import type { PartitionProgress, PartitionRef } from '../../shared/state/partition-store';
import type { StateStore } from '../../shared/state/port';
import type { RunRecord } from '../../shared/state/run-record';
import { specFor } from '../support/domain';
import { startDynalite, type TestDynamo } from '../support/dynalite';

const PLAN = 'a1b2c3';

const progress = (listed: number, submitted: number, nextChunk = 1, skippedKey?: string): PartitionProgress => ({
  counts: {
    listed,
    submitted,
    skipped: skippedKey ? { 'not-media': 1 } : {},
    skippedKeys: skippedKey ? { 'not-media': [skippedKey] } : {},
  },
  nextChunk,
});

describe.each(['dynamodb', 'file'] as const)('partition items and the exactly-once join (%s state)', (kind) => {
  let ddb: TestDynamo | undefined;
  let dir: string | undefined;
  let tables = 0;

  beforeAll(async () => {
    if (kind === 'dynamodb') ddb = await startDynalite();
    else dir = await mkdtemp(join(tmpdir(), 'bb-partitions-'));
  });
  afterAll(async () => {
    await ddb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function freshState(): Promise<StateStore> {
    if (ddb) return new DynamoStateStore(ddb.doc, await ddb.createStateTable(`bb-partitions-${++tables}`), { retryBaseMs: 2 });
    return new FileStateStore(join(dir!, String(++tables)));
  }

  /** A run planned in `total` partitions, and the ports the join uses (its advance messages recorded). */
  async function plannedRun(total: number) {
    const state = await freshState();
    const runId = `r-${tables}`;
    const run: RunRecord = { ...newRunRecord(runId, specFor('s3://media/in/', 's3://media/out/')), partitions: { plan: PLAN, total } };
    await state.createRun(run);
    await state.partitions.save(runId, PLAN, Array.from({ length: total }, (_, index) => ({ index, descriptor: JSON.stringify({ kind: 'range', prefix: `in/${index}/` }) })));
    const advances: unknown[] = [];
    const sent: unknown[] = [];
    const unused = { send: () => Promise.reject(new Error('not used')) };
    const ports = {
      config: parseBridgeConfig({ sources: [{ id: 'cams', bucket: 'media', prefix: 'in/' }], destination: { bucket: 'media', prefix: 'out/' }, target: { name: 'roboflow', workspace: 'w', workflowId: 'f' } }),
      log: silentLogger,
      state,
      queues: { startJob: { send: async (bodies: unknown[]) => void advances.push(...bodies) }, submissions: unused, export: unused, partitions: { send: async (bodies: unknown[]) => void sent.push(...bodies) } },
    } as unknown as ServerlessPorts;
    const deps = { state, log: silentLogger, progress: noProgress } as unknown as BridgeDeps;
    const ref = (index: number): PartitionRef => ({ runId, plan: PLAN, index });
    return { state, runId, ports, deps, ref, advances, sent };
  }

  it('lets one worker hold a partition at a time; a lapsed lease is taken over, and the old holder can no longer checkpoint', async () => {
    const { state, ref } = await plannedRun(2);
    const now = Date.now();
    expect(await state.partitions.claim(ref(0), 'a', now + 60_000, now)).toBe('claimed');
    expect(await state.partitions.claim(ref(0), 'b', now + 60_000, now)).toBe('busy');
    // The holder's own copy (a retry of its claim whose answer was lost) still holds it.
    expect(await state.partitions.claim(ref(0), 'a', now + 60_000, now)).toBe('claimed');
    expect(await state.partitions.checkpoint(ref(0), 'b', progress(7, 7))).toBe(false);
    expect(await state.partitions.checkpoint(ref(0), 'a', progress(7, 7))).toBe(true);
    // After a's lease lapsed, b takes over from a's checkpoint; a late write of a changes nothing.
    expect(await state.partitions.claim(ref(0), 'b', now + 120_000, now + 61_000)).toBe('claimed');
    expect(await state.partitions.checkpoint(ref(0), 'a', progress(99, 99))).toBe(false);
    expect((await state.partitions.get(ref(0)))!.progress.counts.listed).toBe(7);
    // Released, the next message takes it at once.
    await state.partitions.release(ref(0), 'a'); // not a's any more: no effect
    expect(await state.partitions.claim(ref(0), 'c', now + 60_000, now + 62_000)).toBe('busy');
    await state.partitions.release(ref(0), 'b');
    expect(await state.partitions.claim(ref(0), 'c', now + 60_000, now + 62_000)).toBe('claimed');
    await expect(state.partitions.claim(ref(5), 'c', now + 60_000, now)).rejects.toThrow(/partition 5 .*not found/);
  });

  it('completes a partition once: a repeat keeps the first progress, and a done partition can no longer be claimed or checkpointed', async () => {
    const { state, ref } = await plannedRun(3);
    const now = Date.now();
    expect(await state.partitions.claim(ref(1), 'a', now + 60_000, now)).toBe('claimed');
    expect(await state.partitions.complete(ref(1), progress(10, 8))).toEqual({ done: 1 });
    expect(await state.partitions.complete(ref(1), progress(99, 99))).toEqual({ done: 1 });
    const stored = (await state.partitions.get(ref(1)))!;
    expect(stored).toMatchObject({ status: 'done', progress: { counts: { listed: 10, submitted: 8 } } });
    expect(stored.lease).toBeUndefined();
    expect(await state.partitions.claim(ref(1), 'b', now + 60_000, now)).toBe('done');
    expect(await state.partitions.checkpoint(ref(1), 'a', progress(1, 1))).toBe(false);
    expect(await state.partitions.complete(ref(2), progress(1, 1))).toEqual({ done: 2 });
  });

  it('joins exactly once when every partition is completed by several workers at once', async () => {
    const total = 6;
    const { state, runId, ports, deps, ref, advances } = await plannedRun(total);
    // Three copies of each partition's completion, all at once (duplicate deliveries, retries).
    await Promise.all(
      Array.from({ length: total * 3 }, (_, i) => {
        const index = i % total;
        return completePartition(ports, deps, ref(index), total, progress(10 + index, 5 + index, 2, `in/${index}/notes.txt`));
      }),
    );
    const joined = (await state.getRun(runId))!;
    expect(joined).toMatchObject({
      phase: 'ingesting',
      submissionComplete: true,
      listed: 6 * 10 + 15,
      submitted: 6 * 5 + 15,
      skipped: { 'not-media': 6 },
    });
    expect(joined.skippedKeys!['not-media']).toHaveLength(6);
    // Every joiner asks for the job start (it is idempotent); at least one did.
    expect(advances.length).toBeGreaterThanOrEqual(1);
    expect(new Set(advances.map((a) => JSON.stringify(a)))).toEqual(new Set([JSON.stringify({ kind: 'advance', runId })]));

    // A later join (a sweep, a late copy) changes nothing the first one stored.
    await joinPartitions(ports, deps, runId, PLAN);
    await completePartition(ports, deps, ref(0), total, progress(1000, 1000));
    const again = (await state.getRun(runId))!;
    expect({ ...again, updatedAt: '' }).toEqual({ ...joined, updatedAt: '' });
  });

  it('joins when the last completion landed but its answer was lost: the retry finds the partition done and checks the total', async () => {
    const total = 2;
    const { state, runId, ports, deps, ref, advances } = await plannedRun(total);
    await completePartition(ports, deps, ref(0), total, progress(3, 3));
    expect((await state.getRun(runId))!.submissionComplete).toBe(false);
    expect(advances).toEqual([]);
    // The write of partition 1's completion lands, but its worker never hears back (no join yet).
    await state.partitions.complete(ref(1), progress(4, 4));
    expect((await state.getRun(runId))!.submissionComplete).toBe(false);
    // The message is delivered again: the claim finds the partition done, and the completion runs again.
    expect(await state.partitions.claim(ref(1), 'retry', Date.now() + 60_000, Date.now())).toBe('done');
    await completePartition(ports, deps, ref(1), total, (await state.partitions.get(ref(1)))!.progress);
    expect(await state.getRun(runId)).toMatchObject({ submissionComplete: true, phase: 'ingesting', listed: 7, submitted: 7 });
    expect(advances).toEqual([{ kind: 'advance', runId }]);
  });

  it('sends again a partition whose holder died at once, and the partitions nobody holds only once none is held', async () => {
    const { state, runId, ports, ref, sent } = await plannedRun(4);
    const now = Date.now();
    await state.partitions.complete(ref(0), progress(1, 1));
    await state.partitions.claim(ref(1), 'alive', now + 60_000, now);
    await state.partitions.claim(ref(2), 'dead', now - 1, now - 60_000);
    // Partition 3 was never claimed: its message may be queued behind partition 1, which is being worked on.
    expect(await sendLost(ports, runId, PLAN, now)).toEqual([2]);
    expect(sent).toEqual([{ kind: 'partition', runId, plan: PLAN, partition: 2 }]);
    // Nothing held any more (1 handed on, 2 lapsed): every partition left is sent.
    await state.partitions.release(ref(1), 'alive');
    expect(await sendLost(ports, runId, PLAN, now)).toEqual([1, 2, 3]);
  });

  it('does not join while a partition is not done', async () => {
    const { state, runId, ports, deps, ref } = await plannedRun(2);
    await completePartition(ports, deps, ref(0), 2, progress(3, 3));
    await expect(joinPartitions(ports, deps, runId, PLAN)).rejects.toThrow(/partition 1 is not done/);
    expect((await state.getRun(runId))!.submissionComplete).toBe(false);
  });
});
