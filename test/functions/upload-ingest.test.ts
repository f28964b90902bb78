import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { countIndices } from '../../shared/pipeline/upload/index-ranges';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';
import { readChunks } from '../../shared/state/run-chunks';

/** Deployed, on a Roboflow plan without signed-URL ingest: uploads, checkpointed per archive across invocations. */
describe('deployed loop with uploads (ingest: auto, plan refuses signed URLs)', () => {
  let h: ServerlessHarness;
  let seeded: SeededBucket;

  beforeAll(async () => {
    h = await startServerlessHarness({ emulator: { maxImagesPerArchive: 5 } });
    seeded = await seedDemoBucket(h.stack.store('media'), 'incoming/', { withOversize: false });
    h.stack.roboflow.setFaults({ signedUrlIngestRefused: true });
  });
  afterAll(() => h.close());

  it('switches to tar uploads, yields between archives when time runs low, and sends every archive exactly once', async () => {
    const tick = new Date('2026-11-24T10:00:00Z');
    const runId = scheduledRunId('cams', tick);
    let asked = 0;
    // Time for the listing and two archives, then "a minute left": the rest goes on in later invocations.
    const context = h.context(() => (++asked <= 3 ? 900_000 : 60_000));
    const result = await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, context);
    expect(result).toEqual({ runId, result: 'yielded' });
    const early = (await h.main.runtime.state.getRun(runId))!;
    expect(early.ingest).toEqual({ mode: 'upload', reason: expect.stringMatching(/switched to uploads/) });
    const sentEarly = countIndices((await h.main.runtime.state.getChunk(runId, { index: 0 }))!.archivesSent!);
    expect(sentEarly).toBeGreaterThan(0);
    expect(sentEarly).toBeLessThan(Math.ceil(seeded.images.length / 5));

    await h.pump(async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(runId))?.phase ?? ''));
    const run = (await h.main.runtime.state.getRun(runId))!;
    expect(run.phase, run.error).toBe('completed');
    expect(run).toMatchObject({ submitted: seeded.images.length, ingested: seeded.images.length, jobState: 'success' });
    const archives = Math.ceil(seeded.images.length / 5);
    expect((await readChunks(h.main.runtime.state, runId)).map((c) => c.archivesSent)).toEqual([[[0, archives - 1]]]);
    const posts = (fragment: string) => h.stack.roboflow.requests.filter((r) => r.method === 'POST' && r.path.includes(fragment));
    expect(posts('/bulk-upload/image-references')).toHaveLength(1);
    // Every archive PUT once: a slot for the limits, then one per archive.
    expect(h.stack.roboflow.requests.filter((r) => r.method === 'PUT')).toHaveLength(archives);
    expect(posts('/bulk-upload/image-files').length).toBeLessThanOrEqual(archives + 2);
    expect(h.deliveries.some((d) => d.queue === 'submissions' && (d.body as { kind: string }).kind === 'continue')).toBe(true);
  });
});
