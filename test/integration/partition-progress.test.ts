import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import { silentLogger } from '../../shared/log';
import { endRunFailed } from '../../shared/pipeline/fail-run';
import { SKIPPED_KEYS_KEPT } from '../../shared/pipeline/skip-samples';
import { buildSummary, type RunSummary } from '../../shared/pipeline/summary';
import { noProgress } from '../../shared/progress';
import type { BridgeDeps } from '../../shared/run/deps';
import { completePartition } from '../../shared/run/partitions/join';
import { readRunProgress } from '../../shared/run/run-progress';
import type { ServerlessPorts } from '../../shared/run/serverless-ports';
import { newRunRecord } from '../../shared/run/start-run';
import { DynamoStateStore } from '../../shared/state/dynamo';
import { FileStateStore } from '../../shared/state/file-state';
import type { PartitionProgress, PartitionRef } from '../../shared/state/partition-store';
import type { StateStore } from '../../shared/state/port';
import { specFor } from '../support/domain';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { createBucket, startTestS3, type TestS3 } from '../support/s3';

const PLAN = 'f00d01';

/** A partition's progress: `listed` objects, `submitted` of them, the rest skipped as not media (with their keys). */
const progress = (index: number, listed: number, submitted: number, nextChunk: number): PartitionProgress => {
  const skippedKeys = Array.from({ length: listed - submitted }, (_, i) => `in/${index}/notes-${i}.txt`);
  return {
    counts: { listed, submitted, skipped: skippedKeys.length ? { 'not-media': skippedKeys.length } : {}, skippedKeys: skippedKeys.length ? { 'not-media': skippedKeys } : {} },
    nextChunk,
    remaining: nextChunk > 0 ? JSON.stringify({ kind: 'objects', objects: [] }) : undefined,
  };
};

describe.each(['dynamodb', 'file'] as const)('a partitioned run counts its partitions before the join (%s state)', (kind) => {
  let ddb: TestDynamo | undefined;
  let dir: string | undefined;
  let s3: TestS3;
  let tables = 0;

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [] });
    await createBucket(s3.client, 'out');
    if (kind === 'dynamodb') ddb = await startDynalite();
    else dir = await mkdtemp(join(tmpdir(), 'bb-partition-progress-'));
  });
  afterAll(async () => {
    await ddb?.close();
    s3?.server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function freshState(): Promise<StateStore> {
    if (ddb) return new DynamoStateStore(ddb.doc, await ddb.createStateTable(`bb-partition-progress-${++tables}`), { retryBaseMs: 2 });
    return new FileStateStore(join(dir!, String(++tables)));
  }

  /**
   * A run planned in 4 partitions: 0 and 1 done (7 listed, 5 submitted; 8 listed, 4 submitted),
   * 2 checkpointed half-way (9 listed, 3 submitted; its holder still at work), 3 not started.
   */
  async function runHalfListed() {
    const state = await freshState();
    const runId = `r-${kind}-${tables}`;
    const total = 4;
    await state.createRun({ ...newRunRecord(runId, specFor('s3://media/in/', 's3://out/results/')), partitions: { plan: PLAN, total } });
    await state.partitions.save(runId, PLAN, Array.from({ length: total }, (_, index) => ({ index, descriptor: JSON.stringify({ kind: 'range', prefix: `in/${index}/` }) })));
    const ref = (index: number): PartitionRef => ({ runId, plan: PLAN, index });
    const advances: unknown[] = [];
    const ports = {
      config: parseBridgeConfig({ sources: [{ id: 'cams', bucket: 'media', prefix: 'in/' }], destination: { bucket: 'out', prefix: 'results/' }, target: { name: 'roboflow', workspace: 'w', workflowId: 'f' } }),
      log: silentLogger,
      state,
      queues: { startJob: { send: async (bodies: unknown[]) => void advances.push(...bodies) } },
    } as unknown as ServerlessPorts;
    const deps = { state, dest: s3.store('out'), log: silentLogger, progress: noProgress } as unknown as BridgeDeps;
    await completePartition(ports, deps, ref(0), total, progress(0, 7, 5, 1));
    await completePartition(ports, deps, ref(1), total, progress(1, 8, 4, 2));
    const now = Date.now();
    expect(await state.partitions.claim(ref(2), 'holder', now + 60_000, now)).toBe('claimed');
    expect(await state.partitions.checkpoint(ref(2), 'holder', progress(2, 9, 3, 1))).toBe(true);
    return { state, runId, ref, ports, deps, total, advances };
  }

  const expected = { listed: 7 + 8 + 9, submitted: 5 + 4 + 3, skipped: { 'not-media': 2 + 4 + 6 } };

  it('shows the partitions listed and submitted while they list, and the run record’s own counts after the join (not twice)', async () => {
    const { state, runId, ref, ports, deps, total, advances } = await runHalfListed();
    const listing = (await state.getRun(runId))!;
    expect(listing).toMatchObject({ phase: 'discovering', submissionComplete: false, listed: 0, submitted: 0 });
    expect(await readRunProgress(state, undefined, listing)).toEqual({ phase: 'discovering', listed: expected.listed, submitted: expected.submitted });
    expect(await buildSummary(state, listing)).toMatchObject({ status: 'in-progress', ...expected, partitions: { total, done: 2 } });

    // The last two partitions complete: the join sums them into the run record, once.
    await completePartition(ports, deps, ref(2), total, progress(2, 10, 4, 1));
    await completePartition(ports, deps, ref(3), total, progress(3, 1, 1, 1));
    expect(advances).toEqual([{ kind: 'advance', runId }]);
    const joined = (await state.getRun(runId))!;
    const final = { listed: 7 + 8 + 10 + 1, submitted: 5 + 4 + 4 + 1, skipped: { 'not-media': 2 + 4 + 6 } };
    expect(joined).toMatchObject({ phase: 'ingesting', submissionComplete: true, ...final });
    expect(await readRunProgress(state, undefined, joined)).toMatchObject({ phase: 'ingesting', listed: final.listed, submitted: final.submitted });
    expect(await buildSummary(state, joined)).toMatchObject({ ...final, partitions: { total, done: total } });
  });

  it('writes summary.json and report.html with what the partitions submitted when the run fails before the join', async () => {
    const { state, runId, deps } = await runHalfListed();
    await endRunFailed(deps, runId, 'submitting partition 3 gave up after the last delivery: AccessDenied');
    const failed = (await state.getRun(runId))!;
    expect(failed).toMatchObject({ phase: 'failed', submissionComplete: false });
    const summary = JSON.parse(await text(await s3.store('out').read(`results/${runId}/summary.json`))) as RunSummary;
    expect(summary).toMatchObject({ status: 'failed', error: failed.error, ...expected, partitions: { total: 4, done: 2 } });
    // `status` (the summary of the stored record) says the same.
    expect(await buildSummary(state, failed)).toMatchObject({ status: 'failed', ...expected });
    const report = await text(await s3.store('out').read(`results/${runId}/report.html`));
    expect(report).toContain(`data-count="listed" data-value="${expected.listed}"`);
    expect(report).toContain(`data-count="submitted" data-value="${expected.submitted}"`);
    expect(report).toContain(`data-count="skipped.not-media" data-value="${expected.skipped['not-media']}"`);
    expect(report).toContain('data-count="partitions.done" data-value="2">2 / 4</span>');
    // The skipped keys the partitions kept, at most SKIPPED_KEYS_KEPT of a reason, in partition order.
    const shown = [...report.matchAll(/<code>(in\/\d\/notes-\d+\.txt)<\/code>/g)].map((m) => m[1]);
    const kept = [0, 1, 2].flatMap((p) => Array.from({ length: p === 0 ? 2 : p === 1 ? 4 : 6 }, (_, i) => `in/${p}/notes-${i}.txt`));
    expect(shown).toEqual(kept.slice(0, SKIPPED_KEYS_KEPT));
  });
});
