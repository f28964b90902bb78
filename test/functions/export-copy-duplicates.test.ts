import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { QueuedMessage } from '../support/fake-aws';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

interface CopyBody {
  kind: 'copy';
  task: { taskId: string; order?: { pass: number; index: number } };
}

describe('deployed export: every copy message delivered twice at once, one of each pair without its order', () => {
  let h: ServerlessHarness;
  const tick = new Date('2026-11-24T10:00:00Z');
  const runId = scheduledRunId('cams', tick);
  const IMAGES = 7;

  beforeAll(async () => {
    h = await startServerlessHarness();
    for (let i = 0; i < IMAGES; i++) await h.stack.store('media').write(`incoming/img-${i}.jpg`, fakeImage(`img-${i}`));
  });
  afterAll(() => h?.close());

  it('numbers the copies 0..n-1 in the plan and completes the run with every file, nothing dead-lettered', async () => {
    const sent: CopyBody[] = [];
    h.queueFaults.concurrent.add('export');
    h.queueFaults.onSent = (m: QueuedMessage) => {
      const body = JSON.parse(m.body) as CopyBody | { kind: 'plan' };
      if (m.queue !== 'export' || body.kind !== 'copy') return [m];
      sent.push(body);
      // As sent by a planner from before tasks were numbered (a stack upgraded mid-export).
      const { order: _, ...unnumbered } = body.task;
      return [m, { ...m, messageId: `${m.messageId}-old`, body: JSON.stringify({ ...body, task: unnumbered }) }];
    };
    await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context());
    await h.pump(async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(runId))?.phase ?? ''), 60_000);

    const run = (await h.main.runtime.state.getRun(runId))!;
    expect(run.phase, run.error).toBe('completed');
    expect(run.exportTasks).toBeGreaterThan(0);
    expect(sent).toHaveLength(run.exportTasks!);
    expect(sent.map((b) => b.task.order?.index).sort((a, b) => a! - b!)).toEqual(Array.from({ length: run.exportTasks! }, (_, i) => i));
    expect(new Set(sent.map((b) => b.task.order?.pass))).toEqual(new Set([0]));
    expect(h.deliveries.filter((d) => d.queue === 'export' && (d.body as { kind: string }).kind === 'copy')).toHaveLength(2 * run.exportTasks!);
    expect(run.exported?.files).toBeGreaterThanOrEqual(IMAGES);
    expect(h.deadLetters).toEqual([]);
  }, 90_000);
});
