import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import { INGEST_RECHECK_SETTLE } from '../../shared/run/ingest-recheck';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { RunRecord } from '../../shared/state/run-record';
import { ingestStatusBody, ROBOFLOW_NOTIFICATION_HEADERS } from '../support/roboflow-notifications';
import { startServerlessHarness, WEBHOOK_TOKEN, type ServerlessHarness } from '../support/serverless';

const IMAGES = ['a', 'b', 'c', 'd', 'e'];

/** A deployment whose emulated Roboflow shows no shard for `ingestDelayMs` after each ingest request, and the images to send. */
async function harnessWithImages(ingestDelayMs: number): Promise<ServerlessHarness> {
  const h = await startServerlessHarness({ emulator: { ingestDelayMs } });
  for (const name of IMAGES) await h.stack.store('media').write(`incoming/${name}.jpg`, fakeImage(name));
  return h;
}

describe('deployed: an "ingest finished, success" notification that comes before the ingest ends', () => {
  let h: ServerlessHarness;
  const tick = new Date('2026-11-26T08:00:00Z');
  const runId = scheduledRunId('cams', tick);

  beforeAll(async () => {
    // Roboflow takes a while before its shards even show: the early notification lands first.
    h = await harnessWithImages(1500);
  });
  afterAll(() => h.close());

  const run = async (): Promise<RunRecord> => (await h.main.runtime.state.getRun(runId))!;

  it('fails no file and ends the run completed once the API confirms the ingest', async () => {
    expect(await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context())).toEqual({ runId, result: 'submitted' });
    const early = await fetch(`${h.webhookUrl}webhooks/${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: ROBOFLOW_NOTIFICATION_HEADERS,
      body: ingestStatusBody(await run(), 'early-success'),
    });
    expect(await early.json()).toEqual({ outcome: 'recorded' });
    // start-job handles it while the API shows nothing staged and no shard yet.
    await h.pump(async () => h.deliveries.some((d) => d.queue === 'start-job'));
    const waiting = await run();
    expect(waiting.phase, waiting.error).toBe('ingesting');
    const failures = [];
    for await (const f of h.main.runtime.state.failures(runId)) failures.push(f);
    expect(failures).toEqual([]);
    // No notification may follow: the run is looked at again later through the API (one chain of looks).
    const rechecks = [...h.waiting, ...h.aws.pending()].filter((m) => m.queue === 'start-job' && JSON.parse(m.body).recheck);
    expect(rechecks.map((m) => [JSON.parse(m.body), m.delaySeconds])).toEqual([[{ kind: 'advance', runId, recheck: { lastCount: 0, unchanged: 0, settling: 0 } }, 60]]);

    // Roboflow's own notifications follow once its shards are done: the job starts and the run completes.
    await h.pump(async () => ['completed', 'failed'].includes((await run()).phase), 20_000);
    const done = await run();
    expect(done.phase, done.error).toBe('completed');
    expect(done.ingested).toBe(IMAGES.length);
    expect(await text(await h.stack.store('results').read(`out/${runId}/failed.jsonl`))).toBe('');
    expect(h.stack.roboflow.jobsStarted()).toEqual([done.jobId]);
    // The look still queued finds the run ended and changes nothing.
    await h.deliver({ ...rechecks[0]!, receiveCount: 1 });
    expect(await run()).toEqual(done);
    expect(h.stack.roboflow.jobsStarted()).toEqual([done.jobId]);
  });
});

describe('deployed: rechecks of an ingest that shows no shard yet', () => {
  let h: ServerlessHarness;
  const tick = new Date('2026-11-26T09:00:00Z');
  const runId = scheduledRunId('cams', tick);

  beforeAll(async () => {
    // Long enough that the looks below all find no shard and nothing staged.
    h = await harnessWithImages(3000);
  });
  afterAll(() => h.close());

  const run = async (): Promise<RunRecord> => (await h.main.runtime.state.getRun(runId))!;
  const pendingRechecks = () => [...h.waiting, ...h.aws.pending()].filter((m) => m.queue === 'start-job' && JSON.parse(m.body).recheck);

  it('never ends the ingest on an unchanged count alone: the looks go on, and the run completes with every file', async () => {
    expect(await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context())).toEqual({ runId, result: 'submitted' });
    await fetch(`${h.webhookUrl}webhooks/${WEBHOOK_TOKEN}`, { method: 'POST', headers: ROBOFLOW_NOTIFICATION_HEADERS, body: ingestStatusBody(await run(), 'early') });
    await h.pump(async () => pendingRechecks().length > 0);
    const [first] = pendingRechecks();

    // The look after INGEST_RECHECK_SETTLE with the count unchanged (still 0, no shard listed).
    const settledLook = { kind: 'advance', runId, recheck: { lastCount: 0, unchanged: INGEST_RECHECK_SETTLE, settling: 0 } };
    await h.deliver({ ...first!, body: JSON.stringify(settledLook), receiveCount: 1 });
    const waiting = await run();
    expect(waiting.phase, waiting.error).toBe('ingesting');
    const failures = [];
    for await (const f of h.main.runtime.state.failures(runId)) failures.push(f);
    expect(failures).toEqual([]);
    expect(pendingRechecks().map((m) => JSON.parse(m.body).recheck)).toContainEqual({ lastCount: 0, unchanged: INGEST_RECHECK_SETTLE + 1, settling: 0 });

    await h.pump(async () => ['completed', 'failed'].includes((await run()).phase), 20_000);
    const done = await run();
    expect(done.phase, done.error).toBe('completed');
    expect(done.ingested).toBe(IMAGES.length);
  });
});
