import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceName } from '../../shared/pipeline/name';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { killAtThirdIngest } from '../support/kill-mid-submission';
import { readChunks } from '../../shared/state/run-chunks';
import { FileStateStore } from '../../shared/state/file-state';

const BUCKET = 'parallel-discovery';

/**
 * Several folders (one holding only folders and files), a flat folder, objects beside folders,
 * and objects that are not images. Laid out the way the local S3 server lists as S3 does
 * (see test/integration/partitioned-listing.test.ts).
 */
const IMAGES = [
  ...Array.from({ length: 90 }, (_, i) => `media/flat/frame_${String(i * 13).padStart(5, '0')}.jpg`),
  ...['north', 'south', 'west'].flatMap((cam) => Array.from({ length: 8 }, (_, i) => `media/cams/${cam}/shot ${i}.png`)),
  'media/cams/index.jpg', 'media/top.jpg', 'media/zeta/1.jpg', 'media/zeta/inner/2.jpg',
];
const OTHER = ['media/flat/notes.txt', 'media/cams/north/meta.json', 'elsewhere/x.jpg'];

describe('bucket-bridge run --concurrency (partitions listed in parallel)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 10, jobStageDelayMs: 10 } });
    const store = stack.store(BUCKET);
    await Promise.all([...IMAGES, ...OTHER].map((key) => store.write(key, fakeImage(key, 256))));
  });
  afterAll(() => stack.close());

  async function run(dest: string, extra: string[]) {
    const stateDir = await mkdtemp(join(tmpdir(), 'bb-parallel-'));
    const result = await runCli(
      [
        'run', '--source', `s3://${BUCKET}/media/`, '--dest', `s3://${BUCKET}/${dest}/`,
        '--workspace', SANDBOX_WORKSPACE, '--workflow', SANDBOX_WORKFLOW,
        '--page-size', '7', '--chunk-size', '21', '--poll-interval', '0.05', '--timeout', '60', '--state-dir', stateDir, '--log-format', 'json',
        ...extra,
      ],
      stack.env,
    );
    expect(result.code, result.stderr).toBe(0);
    const { runId } = result.summary!;
    const names = (await text(await stack.store(BUCKET).read(`${dest}/${runId}/names.jsonl`))).trim().split('\n').map((l) => JSON.parse(l) as { name: string; key: string });
    return { summary: result.summary!, names, stderr: result.stderr };
  }

  it('submits exactly the names of a sequential run of the same bucket, once each', async () => {
    const sequential = await run('seq', []);
    const parallel = await run('par', ['--concurrency', '4']);

    const byName = (names: Array<{ name: string; key: string }>) => names.map((n) => `${n.name} ${n.key}`).sort();
    expect(byName(parallel.names)).toEqual(byName(sequential.names));
    expect(new Set(parallel.names.map((n) => n.name)).size).toBe(parallel.names.length);
    expect(byName(parallel.names)).toEqual(byName(IMAGES.map((key) => ({ name: referenceName(key), key }))));
    expect(parallel.summary).toMatchObject({ status: 'completed', listed: IMAGES.length + OTHER.length - 1, submitted: IMAGES.length, skipped: { 'not-media': 2 } });
    expect(parallel.summary.listed).toBe(sequential.summary.listed);
    // The parallel run did list in partitions; the sequential one as one listing.
    const split = parallel.stderr.split('\n').find((l) => l.includes('source split into partitions'));
    expect(JSON.parse(split!)).toMatchObject({ prefix: 'media/', concurrency: 4 });
    expect(JSON.parse(split!).partitions).toBeGreaterThanOrEqual(6);
    expect(sequential.stderr).not.toContain('source split into partitions');
  });

  it('resumes a partitioned run SIGKILLed mid-submission from the position after its last key: every image referenced once', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'bb-parallel-kill-'));
    const { runId, readRun } = await killAtThirdIngest(stack, [
      'run', '--source', `s3://${BUCKET}/media/`, '--dest', `s3://${BUCKET}/killed/`, '--workspace', SANDBOX_WORKSPACE, '--workflow', SANDBOX_WORKFLOW,
      '--page-size', '7', '--chunk-size', '21', '--poll-interval', '0.05', '--timeout', '60', '--state-dir', stateDir, '--quiet', '--concurrency', '4',
    ], stateDir);
    const killed = await readRun();
    expect(killed).toMatchObject({ phase: 'discovering', checkpoint: { nextChunk: 2 } });
    expect(killed.checkpoint.nextToken).toMatch(/^after:media\//);

    const resumed = await runCli(['resume', runId, '--state-dir', stateDir, '--poll-interval', '0.05', '--timeout', '60', '--quiet'], stack.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const referenced: string[] = [];
    for (const chunk of await readChunks(new FileStateStore(stateDir), runId)) {
      const lines = (await text(await stack.store(BUCKET).read(chunk.manifestKey))).trim().split('\n');
      referenced.push(...lines.map((l) => (JSON.parse(l) as { name: string }).name));
    }
    expect(referenced.sort()).toEqual(IMAGES.map(referenceName).sort());
    expect(resumed.summary).toMatchObject({ status: 'completed', submitted: IMAGES.length });
  });

  it('refuses a concurrency out of bounds, naming the flag', async () => {
    const result = await runCli(['run', '--source', `s3://${BUCKET}/media/`, '--dest', `s3://${BUCKET}/x/`, '--workspace', SANDBOX_WORKSPACE, '--workflow', SANDBOX_WORKFLOW, '--concurrency', '0'], stack.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--concurrency');
  });
});
