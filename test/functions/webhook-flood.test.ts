import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { QueuedMessage } from '../support/fake-aws';
import { jobFinishedBody, ROBOFLOW_NOTIFICATION_HEADERS } from '../support/roboflow-notifications';
import { startServerlessHarness, WEBHOOK_TOKEN, type ServerlessHarness } from '../support/serverless';

const COPIES = 200;

describe('deployed webhook under a flood of duplicate deliveries', () => {
  let h: ServerlessHarness;
  const tick = new Date('2026-11-24T09:00:00Z');
  const runId = scheduledRunId('cams', tick);

  beforeAll(async () => {
    h = await startServerlessHarness();
    for (const name of ['a', 'b', 'c', 'd']) await h.stack.store('media').write(`incoming/${name}.jpg`, fakeImage(name));
  });
  afterAll(() => h.close());

  const run = () => h.main.runtime.state.getRun(runId);
  const kindOf = (m: QueuedMessage) => (JSON.parse(m.body) as { kind: string }).kind;
  const exportMessages = (kind: string) => h.aws.pending().filter((m) => m.queue === 'export' && kindOf(m) === kind);

  it(`queues one export plan and one copy per result file for ${COPIES} concurrent copies of a job-finished webhook`, async () => {
    await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context());
    // Only the start-job queue is served: the job starts and finishes, its export is not planned yet.
    await h.pump(async () => (await run())?.phase === 'processing');
    const jobDone = () => h.stack.roboflow.webhookDeliveries.some((d) => d.body.type === 'roboflow-batch-job-notification-v1' && d.status === 200);
    const deadline = Date.now() + 10_000;
    while (!jobDone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(jobDone()).toBe(true);
    // The emulator's own notification was received; its plan is set aside, so only the flood plans.
    h.aws.take('export');
    const { jobId } = (await run())!;

    const body = jobFinishedBody(jobId, 'flooded-event');
    const post = async () => {
      const res = await fetch(`${h.webhookUrl}webhooks/${WEBHOOK_TOKEN}`, { method: 'POST', headers: ROBOFLOW_NOTIFICATION_HEADERS, body });
      return { status: res.status, outcome: ((await res.json()) as { outcome?: string }).outcome };
    };
    const replies = await Promise.all(Array.from({ length: COPIES }, post));
    const plans = exportMessages('plan');
    console.log(`flood: ${plans.length} export plan(s) queued by ${COPIES} copies`);
    expect(replies.filter((r) => r.outcome === 'recorded')).toHaveLength(1);
    // The others are duplicates, or still in flight (503: the sender retries, and then gets 'duplicate').
    expect(replies.every((r) => (r.status === 200 && ['recorded', 'duplicate'].includes(r.outcome!)) || (r.status === 503 && r.outcome === 'in-progress'))).toBe(true);
    expect(plans).toHaveLength(1);

    // The sender retries every 503: all duplicates now, nothing more queued.
    const retried = await Promise.all(replies.filter((r) => r.status === 503).map(post));
    expect(retried.every((r) => r.status === 200 && r.outcome === 'duplicate')).toBe(true);
    expect(exportMessages('plan')).toHaveLength(1);

    // SQS may deliver a plan more than once, to several export functions at the same time.
    const planned = h.aws.take('export');
    await Promise.all([...planned, ...planned, ...planned].map((m) => h.deliver({ ...m, receiveCount: 1 })));
    const copies = exportMessages('copy');
    console.log(`flood: ${copies.length} copy message(s) queued`);
    const planning = (await run())!;
    expect(planning.exportTasks).toBeGreaterThan(0);
    expect(copies).toHaveLength(planning.exportTasks!);
    expect(new Set(copies.map((m) => (JSON.parse(m.body) as { task: { taskId: string } }).task.taskId)).size).toBe(copies.length);

    await h.pump(async () => ['completed', 'failed'].includes((await run())?.phase ?? ''));
    const done = (await run())!;
    expect(done.phase, done.error).toBe('completed');
    expect(h.deliveries.filter((d) => d.queue === 'export' && (d.body as { kind: string }).kind === 'copy')).toHaveLength(done.exportTasks!);
    expect(h.deadLetters).toEqual([]);
  });
});
