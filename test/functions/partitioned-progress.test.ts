import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import type { RunSummary } from '../../shared/pipeline/summary';
import { PartitionMessage } from '../../shared/runtime/messages';
import { readRunProgress } from '../../shared/run/run-progress';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { readChunks } from '../../shared/state/run-chunks';
import type { RunRecord } from '../../shared/state/run-record';
import type { QueuedMessage } from '../support/fake-aws';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';
import { whileListingsRefusedAfter } from '../support/refused-listings';

/**
 * Folders, a flat folder, objects beside them and a few objects that are not images, under each
 * source's prefix. A folder holding only folders (`cams/`) also holds an object: the local S3
 * server leaves such a folder out of a delimiter listing (see partitioned-discovery.test.ts).
 */
const IMAGES = [
  ...Array.from({ length: 30 }, (_, i) => `flat/frame_${String(i * 7).padStart(5, '0')}.jpg`),
  ...['north', 'south'].flatMap((cam) => Array.from({ length: 6 }, (_, i) => `cams/${cam}/shot ${i}.png`)),
  'cams/index.jpg', 'top.jpg', 'zeta/1.jpg', 'zeta/inner/2.jpg',
];
const OTHER = ['flat/notes.txt', 'cams/north/meta.json'];
const SOURCES = ['live', 'broken'] as const;

/**
 * The counts of a deployed partitioned run before its partitions are joined: while they list
 * (`status`, progress) and when the run fails before the join (summary.json, report.html). What
 * was submitted is checked against the chunk items and names the partitions' workers stored.
 */
describe('deployed partitioned run: progress and summary count the partitions before the join', () => {
  let h: ServerlessHarness;
  const tick = new Date('2026-12-02T10:00:00Z');
  const runIdOf = (source: string) => scheduledRunId(source, tick);

  beforeAll(async () => {
    h = await startServerlessHarness({
      s3Proxy: true,
      config: {
        sources: SOURCES.map((id) => ({ id, bucket: 'media', prefix: `${id}/`, media: 'images' as const, schedule: 'rate(1 hour)' })),
        listPageSize: 5,
        referencesPerFile: 10,
        discovery: { partitions: 3, sweepSeconds: 1 },
      },
    });
    const store = h.stack.store('media');
    await Promise.all(SOURCES.flatMap((id) => [...IMAGES, ...OTHER].map((key) => store.write(`${id}/${key}`, fakeImage(key, 128)))));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  const run = async (runId: string): Promise<RunRecord> => (await h.main.runtime.state.getRun(runId))!;
  const partitionOf = (m: QueuedMessage, runId: string): number | undefined => {
    if (m.queue !== 'partitions') return undefined;
    const body = PartitionMessage.parse(JSON.parse(m.body));
    return body.kind === 'partition' && body.runId === runId ? body.partition : undefined;
  };

  /** What the run's workers stored: references in its chunk items, and names recorded. */
  async function stored(runId: string) {
    const chunks = await readChunks(h.main.runtime.state, runId);
    let names = 0;
    for await (const _ of h.main.runtime.state.names(runId)) names++;
    return { references: chunks.reduce((n, c) => n + c.references, 0), names };
  }

  it('shows what the done partitions listed and submitted while another still lists, then the joined counts once', async () => {
    const runId = runIdOf('live');
    // Partition 0's messages are lost (the sweep's copies too) until released: the run cannot join.
    let holdBack = true;
    h.queueFaults.onSent = (m) => (holdBack && partitionOf(m, runId) === 0 ? [] : [m]);
    try {
      expect(await h.main.scheduledRun({ sourceId: 'live', time: tick.toISOString() }, h.context())).toEqual({ runId, result: 'partitioned' });
      const { plan, total } = (await run(runId)).partitions!;
      const doneCount = async () => {
        let done = 0;
        for await (const p of h.main.runtime.state.partitions.list(runId, plan)) if (p.status === 'done') done++;
        return done;
      };
      await h.pump(async () => (await doneCount()) === total - 1, 60_000);

      const listing = await run(runId);
      expect(listing).toMatchObject({ phase: 'discovering', submissionComplete: false });
      const { references, names } = await stored(runId);
      expect(references).toBeGreaterThan(0);
      expect(names).toBe(references);
      const progress = await readRunProgress(h.main.runtime.state, undefined, listing);
      expect(progress.phase).toBe('discovering');
      expect(progress.submitted).toBe(references);
      expect(progress.listed).toBeGreaterThanOrEqual(references);
      expect(progress.listed).toBeLessThan(IMAGES.length + OTHER.length);

      holdBack = false;
      await h.pump(async () => (await run(runId)).submissionComplete, 60_000);
    } finally {
      h.queueFaults.onSent = (m) => [m];
    }
    // Joined: the run record's counts, which the join summed once.
    const joined = await run(runId);
    expect(joined).toMatchObject({ listed: IMAGES.length + OTHER.length, submitted: IMAGES.length, skipped: { 'not-media': OTHER.length } });
    expect(await readRunProgress(h.main.runtime.state, undefined, joined)).toMatchObject({ listed: IMAGES.length + OTHER.length, submitted: IMAGES.length });
    await h.pump(async () => ['completed', 'failed'].includes((await run(runId)).phase), 60_000);
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`))) as RunSummary;
    expect(summary).toMatchObject({
      status: 'completed',
      listed: IMAGES.length + OTHER.length,
      submitted: IMAGES.length,
      skipped: { 'not-media': OTHER.length },
      partitions: { total: joined.partitions!.total, done: joined.partitions!.total },
    });
  });

  it('writes a summary and report with what the partitions submitted when a partition fails its last delivery before the join', async () => {
    const runId = runIdOf('broken');
    expect(await h.main.scheduledRun({ sourceId: 'broken', time: tick.toISOString() }, h.context())).toEqual({ runId, result: 'partitioned' });
    // After planning, the store refuses every listing in the flat folder: its range partitions fail.
    await whileListingsRefusedAfter(h, 'broken/flat/', () => h.pump(async () => ['completed', 'failed'].includes((await run(runId)).phase), 60_000));
    const failed = await run(runId);
    expect(failed.phase).toBe('failed');
    expect(failed.error).toMatch(/^submitting partition \d+ gave up after the last delivery: .*Access ?Denied/i);
    expect(failed.submissionComplete).toBe(false);

    const { references, names } = await stored(runId);
    // The other folders were submitted; the flat folder's ranges (the last also holding top.jpg, which sorts before zeta/) were not.
    expect(references).toBeGreaterThanOrEqual(IMAGES.filter((k) => k.startsWith('cams/') || k.startsWith('zeta/')).length);
    expect(references).toBeLessThan(IMAGES.length);
    expect(names).toBe(references);
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`))) as RunSummary;
    expect(summary).toMatchObject({ status: 'failed', error: failed.error, submitted: references });
    const skipped = Object.values(summary.skipped).reduce((n, c) => n + c, 0);
    expect(summary.listed).toBe(references + skipped);
    expect(summary.skipped['not-media']).toBeGreaterThanOrEqual(1);
    expect(summary.chunks.reduce((n, c) => n + c.references, 0)).toBe(references);
    // Which partitions were submitted whole, and which were not.
    let done = 0;
    for await (const p of h.main.runtime.state.partitions.list(runId, failed.partitions!.plan)) if (p.status === 'done') done++;
    expect(done).toBeLessThan(failed.partitions!.total);
    expect(summary.partitions).toEqual({ total: failed.partitions!.total, done });
    const report = await text(await h.stack.store('results').read(`out/${runId}/report.html`));
    expect(report).toContain(`data-count="listed" data-value="${summary.listed}"`);
    expect(report).toContain(`data-count="submitted" data-value="${references}"`);
    expect(report).toContain(`data-count="partitions.done" data-value="${done}">${done} / ${failed.partitions!.total}</span>`);
    expect(report).toContain('<code>broken/cams/north/meta.json</code>');
    expect(h.stack.roboflow.jobsStarted()).not.toContain(failed.jobId);
  });
});
