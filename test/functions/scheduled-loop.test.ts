import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { RunRecord } from '../../shared/state/run-record';
import { listObjects } from '../support/s3';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

describe('deployed loop: schedule -> queues -> webhooks -> export', () => {
  let h: ServerlessHarness;
  let seeded: SeededBucket;
  const tick = new Date('2026-11-23T10:00:00Z');

  beforeAll(async () => {
    h = await startServerlessHarness();
    seeded = await seedDemoBucket(h.stack.store('media'), 'incoming/', { withOversize: false });
  });
  afterAll(() => h.close());

  const run = async (runId: string): Promise<RunRecord | undefined> => h.main.runtime.state.getRun(runId);
  const finished = (runId: string) => async () => ['completed', 'failed'].includes((await run(runId))?.phase ?? '');

  it('runs a scheduled tick through every function to results in the destination', async () => {
    const result = await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString(), id: 'evt-1' }, h.context());
    const runId = scheduledRunId('cams', tick);
    expect(result).toEqual({ runId, result: 'submitted' });
    await h.pump(finished(runId));

    const done = (await run(runId))!;
    expect(done.phase, done.error).toBe('completed');
    expect(done).toMatchObject({ submitted: seeded.images.length, ingested: seeded.images.length, jobState: 'success' });
    expect(h.stack.roboflow.jobsStarted()).toEqual([done.jobId]);
    const results = await listObjects(h.stack.store('results'), `out/${runId}/`);
    const runFiles = ['summary.json', 'failed.jsonl', 'names.jsonl', 'report.html', 'results-by-key.jsonl'].map((f) => `out/${runId}/${f}`);
    expect(results.map((o) => o.key)).toEqual(expect.arrayContaining(runFiles));
    expect(results.length).toBe(done.exported!.files + runFiles.length);
    // Results joined to their objects through the deployed state (the name map in DynamoDB), by the export function.
    const joined = (await text(await h.stack.store('results').read(`out/${runId}/results-by-key.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
    expect(joined.map((l) => l.source_key).sort()).toEqual([...seeded.images].sort());
    for (const line of joined) {
      expect(line).toMatchObject({ status: 'exported', results: [expect.stringMatching(new RegExp(`/${line.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.json$`))] });
      expect(results.map((o) => o.key)).toContain(`out/${runId}/${line.results[0]}`);
    }
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`)));
    expect(summary).toMatchObject({ status: 'completed', submitted: seeded.images.length });

    // Every queue was used, and the export fanned out one copy message per result file.
    const queues = new Set(h.deliveries.map((d) => d.queue));
    expect([...queues].sort()).toEqual(['export', 'start-job']);
    const copies = h.deliveries.filter((d) => d.queue === 'export' && (d.body as { kind: string }).kind === 'copy');
    expect(copies.length).toBe(done.exportTasks);
    expect(h.deliveries.every((d) => !d.failed)).toBe(true);
    // Roboflow was told to call the Function URL with the secret path token.
    const ingest = h.stack.roboflow.requests.find((r) => r.path.endsWith('/bulk-upload/image-references'));
    expect((ingest?.body as { notificationsURL: string }).notificationsURL).toBe(`${h.webhookUrl}webhooks/${'w'.repeat(48)}`);
  });

  it('changes nothing when the same tick is delivered again', async () => {
    const runId = scheduledRunId('cams', tick);
    const before = { run: await run(runId), requests: h.stack.roboflow.requests.length, jobs: h.stack.roboflow.jobsStarted().length };
    const result = await h.container().scheduledRun({ sourceId: 'cams', time: tick.toISOString(), id: 'evt-1' }, h.context());
    expect(result).toEqual({ runId, result: 'submitted' });
    await h.pump(async () => h.aws.pending().length === 0 && h.waiting.length === 0);
    expect(await run(runId)).toEqual(before.run);
    expect(h.stack.roboflow.requests.filter((r) => r.method === 'POST').length).toBe(
      h.stack.roboflow.requests.slice(0, before.requests).filter((r) => r.method === 'POST').length,
    );
    expect(h.stack.roboflow.jobsStarted().length).toBe(before.jobs);
  });

  it('submits nothing on the next tick when no object is new, and ends that run quietly', async () => {
    const next = new Date(tick.getTime() + 3_600_000);
    const ingestsBefore = h.stack.roboflow.requests.filter((r) => r.path.endsWith('/bulk-upload/image-references')).length;
    const result = await h.main.scheduledRun({ sourceId: 'cams', time: next.toISOString() }, h.context());
    const empty = (await run(result.runId))!;
    expect(empty).toMatchObject({ phase: 'completed', submitted: 0, skipped: { 'already-submitted': seeded.images.length } });
    expect(h.stack.roboflow.requests.filter((r) => r.path.endsWith('/bulk-upload/image-references')).length).toBe(ingestsBefore);
  });
});
