import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceName } from '../../shared/pipeline/name';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { killAtThirdIngest } from '../support/kill-mid-submission';
import { entriesOfBucket, writeInventory, type InventoryEntry } from '../support/s3-inventory';

const BUCKET = 'inventory-source';
const INVENTORY = 'inventory-reports';

const IMAGES = [
  ...Array.from({ length: 40 }, (_, i) => `media/flat/frame_${String(i * 7).padStart(4, '0')}.jpg`),
  ...['north', 'south'].flatMap((cam) => Array.from({ length: 6 }, (_, i) => `media/cams/${cam}/shot ${i}+1, "x".png`)),
  'media/日本/写真.jpg',
  'media/top.jpg',
];
const OTHER = ['media/flat/notes.txt', 'elsewhere/x.jpg'];
/** Rows an inventory holds that a listing of the source does not return now. */
const NOT_CURRENT: InventoryEntry[] = [
  { key: 'media/flat/frame_0000.jpg', size: 5, versionId: 'old', isLatest: false },
  { key: 'media/gone.jpg', versionId: 'dm', isLatest: true, isDeleteMarker: true },
];

/** Seeded, then the inventory generated from the bucket's listing: what S3 Inventory would report. */
async function seed(stack: LocalStack): Promise<InventoryEntry[]> {
  const store = stack.store(BUCKET);
  await Promise.all([...IMAGES, ...OTHER].map((key) => store.write(key, fakeImage(key, 256))));
  // An earlier run's result under the destination prefix: the bridge's own prefix, left out as a listing run leaves it out.
  await store.write('media/out/earlier/result.jpg', fakeImage('r', 256));
  const current = await entriesOfBucket(store);
  // Data files are not sorted by key.
  return [...current.reverse(), ...NOT_CURRENT];
}

describe('bucket-bridge run --inventory (objects read from an S3 Inventory report)', () => {
  let stack: LocalStack;
  let entries: InventoryEntry[];

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET, INVENTORY], emulator: { ingestDelayMs: 10, jobStageDelayMs: 10 } });
    entries = await seed(stack);
  });
  afterAll(() => stack.close());

  const baseArgs = (stateDir: string) => [
    'run', '--source', `s3://${BUCKET}/media/`, '--dest', `s3://${BUCKET}/media/out/`,
    '--workspace', SANDBOX_WORKSPACE, '--workflow', SANDBOX_WORKFLOW,
    '--page-size', '7', '--chunk-size', '14', '--poll-interval', '0.05', '--timeout', '60', '--state-dir', stateDir, '--log-format', 'json',
  ];

  async function run(extra: string[]) {
    const stateDir = await mkdtemp(join(tmpdir(), 'bb-inventory-'));
    const result = await runCli([...baseArgs(stateDir), ...extra], stack.env);
    expect(result.code, result.stderr).toBe(0);
    const { runId } = result.summary!;
    const names = (await text(await stack.store(BUCKET).read(`media/out/${runId}/names.jsonl`))).trim().split('\n').map((l) => JSON.parse(l) as { name: string; key: string });
    return { summary: result.summary!, names: names.map((n) => `${n.name} ${n.key}`).sort(), stderr: result.stderr };
  }

  for (const format of ['CSV', 'Parquet'] as const) {
    it(`${format}: submits exactly the names of a listing run of the same bucket, once each`, async () => {
      const inventory = await writeInventory(stack.store(INVENTORY), { sourceBucket: BUCKET, entries, format, prefix: `${format.toLowerCase()}/`, rowsPerFile: 9, rowGroupSize: 4 });
      const listed = await run([]);
      const fromInventory = await run(['--inventory', `s3://${INVENTORY}/${inventory.configPrefix}`, '--concurrency', '3']);

      expect(fromInventory.names).toEqual(listed.names);
      expect(fromInventory.names).toEqual(IMAGES.map((key) => `${referenceName(key)} ${key}`).sort());
      expect(fromInventory.summary).toMatchObject({ status: 'completed', submitted: IMAGES.length, skipped: { 'not-media': 1 } });
      const read = fromInventory.stderr.split('\n').find((l) => l.includes('objects read from an S3 Inventory'));
      expect(JSON.parse(read!)).toMatchObject({ manifest: inventory.manifestKey, format, dataFiles: inventory.dataKeys.length });
      expect(inventory.dataKeys.length).toBeGreaterThan(3);
      expect(listed.stderr).not.toContain('S3 Inventory');
    });
  }

  it('resumes an inventory run SIGKILLed mid-submission from its row position: every image referenced once', async () => {
    const inventory = await writeInventory(stack.store(INVENTORY), { sourceBucket: BUCKET, entries, format: 'Parquet', prefix: 'killed/', rowsPerFile: 11, rowGroupSize: 3 });
    const stateDir = await mkdtemp(join(tmpdir(), 'bb-inventory-kill-'));
    const { runId, readRun } = await killAtThirdIngest(stack, [...baseArgs(stateDir), '--quiet', '--concurrency', '2', '--inventory', `s3://${INVENTORY}/${inventory.manifestKey}`], stateDir);
    const killed = await readRun();
    expect(killed).toMatchObject({ phase: 'discovering', checkpoint: { nextChunk: 2 }, spec: { inventory: { bucket: INVENTORY, manifestKey: inventory.manifestKey } } });
    expect(killed.checkpoint.nextToken).toMatch(/^inventory:\d+:\d+$/);

    const resumed = await runCli(['resume', runId, '--state-dir', stateDir, '--poll-interval', '0.05', '--timeout', '60', '--quiet'], stack.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    // The references files the run wrote (each chunk's, the one written again after the kill once).
    const referenced: string[] = [];
    for await (const page of stack.store(BUCKET).list(`bucket-bridge/manifests/${runId}/`)) {
      for (const file of page.objects) {
        const lines = (await text(await stack.store(BUCKET).read(file.key))).trim().split('\n');
        referenced.push(...lines.map((l) => (JSON.parse(l) as { name: string }).name));
      }
    }
    expect(referenced.sort()).toEqual(IMAGES.map(referenceName).sort());
    expect(resumed.summary).toMatchObject({ status: 'completed', submitted: IMAGES.length });
  });

  it('fails the run naming a data file that does not match the manifest, and refuses a stale inventory by its date (exit 2)', async () => {
    const store = stack.store(INVENTORY);
    const damaged = await writeInventory(store, { sourceBucket: BUCKET, entries, format: 'CSV', prefix: 'damaged/', rowsPerFile: 20 });
    await store.write(damaged.dataKeys[0]!, 'not the file the manifest lists');
    const stateDir = await mkdtemp(join(tmpdir(), 'bb-inventory-bad-'));
    const failed = await runCli([...baseArgs(stateDir), '--inventory', `s3://${INVENTORY}/${damaged.manifestKey}`], stack.env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`inventory data file s3://${INVENTORY}/${damaged.dataKeys[0]}: 31 bytes read, the manifest says`);
    const [runId] = await readdir(join(stateDir, 'runs'));
    const summary = JSON.parse(await text(await stack.store(BUCKET).read(`media/out/${runId}/summary.json`)));
    expect(summary).toMatchObject({ status: 'failed', submitted: 0 });
    expect(summary.error).toContain(`submission failed: inventory data file s3://${INVENTORY}/${damaged.dataKeys[0]}`);

    const stale = await writeInventory(store, { sourceBucket: BUCKET, entries, format: 'CSV', prefix: 'stale/', createdAt: new Date(Date.now() - 9 * 24 * 3600_000) });
    const refused = await runCli([...baseArgs(stateDir), '--inventory', `s3://${INVENTORY}/${stale.configPrefix}`], stack.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--inventory: expected an inventory at most 7 days old.*\(9 days ago\)/);
    const allowed = await runCli([...baseArgs(stateDir), '--inventory', `s3://${INVENTORY}/${stale.configPrefix}`, '--inventory-max-age-days', '10'], stack.env);
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it('refuses bad --inventory input naming the flag', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'bb-inventory-flags-'));
    const notS3 = await runCli([...baseArgs(stateDir), '--inventory', 'gs://x/y'], stack.env);
    expect(notS3.code).toBe(2);
    expect(notS3.stderr).toContain('--inventory');
    const ageAlone = await runCli([...baseArgs(stateDir), '--inventory-max-age-days', '3'], stack.env);
    expect(ageAlone.code).toBe(2);
    expect(ageAlone.stderr).toContain('--inventory-max-age-days');
  });
});
