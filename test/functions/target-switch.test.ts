import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRunRecord } from '../../shared/run/start-run';
import { specFor } from '../support/domain';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

describe('a deployment switched to another target', () => {
  let h: ServerlessHarness;

  beforeAll(async () => {
    h = await startServerlessHarness({ target: 'extend' });
  });
  afterAll(() => h.close());

  it.each([
    ['start-job', 'processing', (runId: string) => h.main.runtime.queues.startJob.send([{ kind: 'advance', runId }])],
    ['export', 'processing', (runId: string) => h.main.runtime.queues.export.send([{ kind: 'plan', runId }])],
    ['continue-submission', 'discovering', (runId: string) => h.main.runtime.queues.submissions.send([{ kind: 'continue', runId }])],
  ] as const)('ends a run left over from the old target when %s meets it, with the reason in its summary', async (fn, phase, send) => {
    // A Roboflow run still in flight when the stack was redeployed for Extend.
    const runId = `old-roboflow-${fn}`;
    await h.main.runtime.state.createRun({ ...newRunRecord(runId, specFor('s3://media/incoming/', 's3://results/out/')), phase });
    await send(runId);
    await h.pump(async () => (await h.main.runtime.state.getRun(runId))?.phase === 'failed', 10_000);

    const run = (await h.main.runtime.state.getRun(runId))!;
    expect(run.error).toBe('the run targets roboflow, but this deployment is now configured for extend');
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`)));
    expect(summary).toMatchObject({ status: 'failed', error: run.error });
    // Handled, not retried into the dead-letter queue.
    expect(h.deliveries.filter((d) => (d.body as { runId?: string }).runId === runId).map((d) => d.failed)).toEqual([false]);
    expect(h.deadLetters).toEqual([]);
  });

  it('still ends such a run when its destination is out of reach now (in state, without a summary)', async () => {
    const runId = 'old-roboflow-elsewhere';
    await h.main.runtime.state.createRun({ ...newRunRecord(runId, specFor('s3://media/incoming/', 's3://no-such-bucket/out/')), phase: 'processing' });
    await h.main.runtime.queues.export.send([{ kind: 'plan', runId }]);
    await h.pump(async () => (await h.main.runtime.state.getRun(runId))?.phase === 'failed', 10_000);
    expect((await h.main.runtime.state.getRun(runId))!.error).toBe('the run targets roboflow, but this deployment is now configured for extend');
    expect(h.deliveries.filter((d) => (d.body as { runId?: string }).runId === runId).map((d) => d.failed)).toEqual([false]);
  });
});
