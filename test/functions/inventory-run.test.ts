import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import { referenceName } from '../../shared/pipeline/name';
import { submitPartition } from '../../shared/run/partitions/partition-worker';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { PartitionMessage } from '../../shared/runtime/messages';
import type { RunRecord } from '../../shared/state/run-record';
import { entriesOfBucket, writeInventory, type InventoryEntry } from '../support/s3-inventory';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

/** The inventory is delivered to the results bucket here (any bucket the functions may read). */
const INVENTORY_BUCKET = 'results';
const CONFIG_PREFIX = 'inventory/media/daily/';

/** Rows per data file of the newest report. */
const ROWS_PER_FILE = 8;
let DATA_FILES = 0;

const IMAGES = [
  ...Array.from({ length: 30 }, (_, i) => `incoming/cam${i % 3}/frame ${String(i).padStart(3, '0')}.jpg`),
  'incoming/日本/写真.png',
  'incoming/a+b, "c".jpg',
];
/** The second source's images (its own prefix of the same bucket and report). */
const SECOND = Array.from({ length: 12 }, (_, i) => `second/img-${i}.jpg`);
/** In the bucket when the inventory was made, not submitted: not media, or outside the source prefix. */
const OTHER = ['incoming/notes.txt', 'elsewhere/x.jpg'];
/** Rows a listing would not return: older versions and a delete marker. */
const NOT_CURRENT: InventoryEntry[] = [
  { key: 'incoming/cam0/frame 000.jpg', size: 3, versionId: 'v-old', isLatest: false },
  { key: 'incoming/removed.jpg', versionId: 'v-dm', isLatest: true, isDeleteMarker: true },
];

describe('deployed inventory-driven run: schedule -> partitions from the newest S3 Inventory -> ingest -> webhooks -> export', () => {
  let h: ServerlessHarness;
  const tick = new Date('2026-12-04T06:00:00Z');

  beforeAll(async () => {
    h = await startServerlessHarness({
      s3Proxy: true,
      config: {
        sources: [
          { id: 'cams', bucket: 'media', prefix: 'incoming/', media: 'images', schedule: 'rate(1 day)', inventory: { bucket: INVENTORY_BUCKET, prefix: CONFIG_PREFIX } },
          { id: 'halted', bucket: 'media', prefix: 'second/', media: 'images', schedule: 'rate(1 day)', inventory: { bucket: INVENTORY_BUCKET, prefix: CONFIG_PREFIX } },
        ],
        discovery: { partitions: 4, sweepSeconds: 60 },
        // Several references files per data file, so a partition can stop inside one.
        listPageSize: 2,
        referencesPerFile: 2,
      },
    });
    const media = h.stack.store('media');
    await Promise.all([...IMAGES, ...OTHER, ...SECOND].map((key) => media.write(key, fakeImage(key, 512))));
    const entries = [...(await entriesOfBucket(media)).reverse(), ...NOT_CURRENT];
    const inventories = h.stack.store(INVENTORY_BUCKET);
    // An older report, and the newest: Parquet, several data files of several row groups.
    await writeInventory(inventories, { sourceBucket: 'media', entries: entries.slice(0, 3), format: 'CSV', prefix: 'inventory/', createdAt: new Date(Date.now() - 2 * 86_400_000) });
    const newest = await writeInventory(inventories, { sourceBucket: 'media', entries, format: 'Parquet', prefix: 'inventory/', rowsPerFile: ROWS_PER_FILE, rowGroupSize: 3, createdAt: new Date(Date.now() - 3_600_000) });
    DATA_FILES = newest.dataKeys.length;
    // Added after the report: not in it, so not in this run.
    await media.write('incoming/late.jpg', fakeImage('late', 512));
  });
  afterAll(() => h?.close());

  const run = async (runId: string): Promise<RunRecord | undefined> => h.main.runtime.state.getRun(runId);
  const finished = (runId: string) => async () => ['completed', 'failed'].includes((await run(runId))?.phase ?? '');

  it("submits exactly the newest inventory's current images under the prefix, each data file a partition, with no listing", async () => {
    h.proxy!.requests.length = 0;
    const runId = scheduledRunId('cams', tick);
    await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString(), id: 'evt-inventory' }, h.context());
    await h.pump(finished(runId), 60_000);

    const done = (await run(runId))!;
    expect(done.phase, done.error).toBe('completed');
    expect(done.spec.inventory).toEqual({ bucket: INVENTORY_BUCKET, manifestKey: expect.stringMatching(/^inventory\/media\/daily\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z\/manifest\.json$/) });
    const names = (await text(await h.stack.store('results').read(`out/${runId}/names.jsonl`))).trim().split('\n').map((l) => JSON.parse(l) as { name: string; key: string });
    expect(names.map((n) => `${n.name} ${n.key}`).sort()).toEqual(IMAGES.map((key) => `${referenceName(key)} ${key}`).sort());
    expect(done).toMatchObject({ submitted: IMAGES.length, ingested: IMAGES.length, jobState: 'success' });
    expect(h.stack.roboflow.jobsStarted()).toEqual([done.jobId]);

    // Each of the newest report's data files was a partition, worked on by the partition function.
    expect(done.partitions?.total).toBe(DATA_FILES);
    const partitionMessages = h.deliveries.filter((d) => d.queue === 'partitions' && (d.body as { kind: string }).kind === 'partition');
    expect(new Set(partitionMessages.map((d) => (d.body as { partition: number }).partition)).size).toBe(DATA_FILES);
    // The source was never listed beyond the preflight's one-key look.
    const sourceListings = h.proxy!.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/media') && r.query.has('list-type'));
    expect(sourceListings.map((r) => r.query.get('max-keys'))).toEqual(['1']);
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`)));
    expect(summary).toMatchObject({ status: 'completed', submitted: IMAGES.length, skipped: { 'not-media': 1 } });
  });

  it('a partition worker that stops inside a data file hands on the rows left: the next one reads on from there, every image once', async () => {
    const tick2 = new Date('2026-12-04T08:00:00Z');
    const runId = scheduledRunId('halted', tick2);
    await h.main.scheduledRun({ sourceId: 'halted', time: tick2.toISOString() }, h.context());
    const { plan } = (await run(runId))!.partitions!;
    // Every partition's first delivery stops after its first references file (its invocation runs out of time).
    const outcomes: string[] = [];
    for (const message of h.aws.take('partitions')) {
      const body = JSON.parse(message.body) as PartitionMessage;
      if (body.kind !== 'partition') {
        h.waiting.push({ ...message, receiveCount: 1 });
        continue;
      }
      outcomes.push(await submitPartition(h.main.runtime, body, { remainingMs: () => 900_000, shouldYield: () => true }));
    }
    expect(outcomes).toHaveLength(DATA_FILES);
    // The partitions holding more than one references file of second/ images stopped inside their data file, after a row count.
    const cut: number[] = [];
    for await (const p of h.main.runtime.state.partitions.list(runId, plan)) {
      if (p.status === 'done') continue;
      const rest = JSON.parse(p.progress.remaining!) as { kind: string; skipRows?: number };
      expect(rest).toMatchObject({ kind: 'inventory', skipRows: expect.any(Number) });
      expect(rest.skipRows).toBeGreaterThan(0);
      expect(rest.skipRows).toBeLessThan(ROWS_PER_FILE);
      cut.push(p.index);
    }
    expect(cut.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'handed-on')).toHaveLength(cut.length);

    await h.pump(finished(runId), 60_000);
    const done = (await run(runId))!;
    expect(done.phase, done.error).toBe('completed');
    const names = (await text(await h.stack.store('results').read(`out/${runId}/names.jsonl`))).trim().split('\n').map((l) => JSON.parse(l) as { key: string });
    expect(names.map((n) => n.key).sort()).toEqual([...SECOND].sort());
    expect(done).toMatchObject({ submitted: SECOND.length, ingested: SECOND.length, jobState: 'success' });
    // Read once: no row read again (the ledger would have hidden a re-read as 'already-submitted').
    expect(done.listed).toBe(SECOND.length);
    expect(done.skipped).toEqual({});
  });

  it('fails the tick before creating a run when the newest report is older than maxAgeDays, naming the setting and the date', async () => {
    const stale = await startServerlessHarness({
      config: { sources: [{ id: 'old', bucket: 'media', prefix: 'incoming/', media: 'images', schedule: 'rate(1 day)', inventory: { bucket: 'results', prefix: 'inventory/media/daily/', maxAgeDays: 1 } }] },
    });
    try {
      await writeInventory(stale.stack.store('results'), { sourceBucket: 'media', entries: [{ key: 'incoming/a.jpg', size: 1 }], format: 'CSV', prefix: 'inventory/', createdAt: new Date(Date.now() - 3 * 86_400_000) });
      const tickOld = new Date('2026-12-04T07:00:00Z');
      await expect(stale.main.scheduledRun({ sourceId: 'old', time: tickOld.toISOString() }, stale.context())).rejects.toThrow(
        /sources\[id=old\]\.inventory: expected an inventory at most 1 days old.*created .* \(3 days ago\)/,
      );
      expect(await stale.main.runtime.state.getRun(scheduledRunId('old', tickOld))).toBeUndefined();
    } finally {
      await stale.close();
    }
  });
});
