import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { listObjects } from '../support/s3';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';
import { readChunks } from '../../shared/state/run-chunks';

describe('deployed loop under faults', () => {
  let h: ServerlessHarness;
  let proxy: NonNullable<ServerlessHarness['proxy']>;
  let seeded: SeededBucket;

  beforeAll(async () => {
    // Five objects a page and a references file per page, so a listing spans many checkpoints.
    h = await startServerlessHarness({ config: { listPageSize: 5, referencesPerFile: 5 }, s3Proxy: true });
    proxy = h.proxy!;
    seeded = await seedDemoBucket(h.stack.store('media'), 'incoming/', { withOversize: false });
  });
  afterAll(() => h.close());

  const runOf = (runId: string) => h.main.runtime.state.getRun(runId);
  const finished = (runId: string) => async () => ['completed', 'failed'].includes((await runOf(runId))?.phase ?? '');

  async function manifestNames(runId: string) {
    const names: string[] = [];
    for (const o of await listObjects(h.stack.store('media'), `bucket-bridge/manifests/${runId}/`)) {
      for (const line of (await text(await h.stack.store('media').read(o.key))).trim().split('\n')) names.push(JSON.parse(line).name);
    }
    return names;
  }

  it('resumes a listing whose invocation died mid-way, without gaps or duplicates', async () => {
    const tick = new Date('2026-11-23T11:00:00Z');
    const runId = scheduledRunId('cams', tick);
    proxy.arm('hang', 2);
    // First invocation: freezes on the third listing page, like a Lambda killed by its timeout.
    const doomed = h.container().scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context());
    void doomed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (proxy.faults() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.faults()).toBe(1);
    const frozen = (await runOf(runId))!;
    expect(frozen.phase).toBe('discovering');
    expect(frozen.checkpoint.nextChunk).toBe(3);

    // EventBridge retries the invocation: a fresh container continues from the checkpoint.
    proxy.arm('none');
    const retried = await h.container().scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context());
    expect(retried).toEqual({ runId, result: 'submitted' });
    await h.pump(finished(runId));

    const run = (await runOf(runId))!;
    expect(run.phase, run.error).toBe('completed');
    expect(run.submitted).toBe(seeded.images.length);
    expect(run.ingested).toBe(seeded.images.length);
    expect(run.listed).toBe(seeded.images.length + seeded.notMedia.length);
    const chunks = await readChunks(h.main.runtime.state, runId);
    expect(chunks.map((c) => c.index)).toEqual([...Array(chunks.length).keys()]);
    const names = await manifestNames(runId);
    expect(names).toHaveLength(seeded.images.length);
    expect(new Set(names).size).toBe(seeded.images.length);
  });

  it('yields when the invocation runs low on time and continues through the submissions queue', async () => {
    await h.stack.store('media').write('incoming/later/x.jpg', 'x'.repeat(100));
    const tick = new Date('2026-11-23T12:00:00Z');
    const runId = scheduledRunId('cams', tick);
    let calls = 0;
    // Plenty of time for the first checkpoint, then "two minutes left".
    const result = await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context(() => (++calls <= 1 ? 900_000 : 60_000)));
    expect(result).toEqual({ runId, result: 'yielded' });
    await h.pump(finished(runId));
    const run = (await runOf(runId))!;
    expect(run.phase, run.error).toBe('completed');
    // Only the new object: everything else is in the ledger from the previous run.
    expect(run).toMatchObject({ submitted: 1, skipped: { 'already-submitted': seeded.images.length } });
    expect(h.deliveries.some((d) => d.queue === 'submissions' && (d.body as { kind: string }).kind === 'continue')).toBe(true);
  });

  it('dead-letters a poison export message after its retries and records it on the run', async () => {
    await h.stack.store('media').write('incoming/poison/y.jpg', 'y'.repeat(100));
    const tick = new Date('2026-11-23T13:00:00Z');
    const runId = scheduledRunId('cams', tick);
    h.stack.roboflow.setFaults({
      failures: [{ pathIncludes: '/batch-processing/v1/external/demo-workspace/jobs/', method: 'GET', status: 500, count: 1000, body: { error: 'job store unavailable' } }],
    });
    try {
      await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context());
      await h.pump(finished(runId));
    } finally {
      h.stack.roboflow.setFaults({});
    }
    const run = (await runOf(runId))!;
    expect(run.phase).toBe('failed');
    expect(run.error).toMatch(/^planning the export gave up after the last delivery: .*HTTP 500: job store unavailable/);
    const plans = h.deliveries.filter((d) => d.queue === 'export' && (d.body as { runId: string }).runId === runId);
    expect(plans.map((d) => [d.receiveCount, d.failed])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, true],
      [5, true],
    ]);
    expect(h.deadLetters).toContainEqual({ queue: 'export', body: { kind: 'plan', runId } });
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`)));
    expect(summary).toMatchObject({ status: 'failed', error: run.error });
  });

  it('answers a replayed webhook without changing anything, and a wrong secret with 401', async () => {
    const delivered = h.stack.roboflow.webhookDeliveries.filter((d) => d.status === 200);
    const jobDone = delivered.filter((d) => d.body.type === 'roboflow-batch-job-notification-v1').at(0)!;
    const run = (await h.main.runtime.state.findRunByJobId(jobDone.body.job_id))!;
    const before = { run: await runOf(run.runId), pending: h.aws.pending().length };

    const replay = await fetch(jobDone.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer rf_emulated' },
      body: JSON.stringify({ ...jobDone.body, delivery_attempt: 2 }),
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ outcome: 'duplicate' });

    const spoofed = await fetch(jobDone.url.replace(/webhooks\/\w+$/, `webhooks/${'x'.repeat(48)}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer rf_emulated' },
      body: JSON.stringify({ ...jobDone.body, event_id: 'brand-new' }),
    });
    expect(spoofed.status).toBe(401);
    expect(await h.main.runtime.state.hasEvent('brand-new')).toBe(false);
    expect(await runOf(run.runId)).toEqual(before.run);
    expect(h.aws.pending().length).toBe(before.pending);
  });
});
