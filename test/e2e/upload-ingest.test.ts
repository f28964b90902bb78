import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { referenceName } from '../../shared/pipeline/name';
import { runCli } from '../support/cli';
import { spawnCli } from '../support/cli-process';
import { listObjects } from '../support/s3';

const BUCKET = 'upload-e2e';
const GCS_BUCKET = 'upload-e2e-gcs';

/** The CLI against the Roboflow emulator switched to a plan without signed-URL ingest. */
describe('bucket-bridge run on a Roboflow plan without signed-URL ingest (uploads), end to end on loopback', () => {
  let stack: LocalStack;
  let s3Seed: SeededBucket;
  let gcsSeed: SeededBucket;
  let stateDir: string;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], gcsBuckets: [GCS_BUCKET], emulator: { ingestDelayMs: 20, jobStageDelayMs: 30 } });
    s3Seed = await seedDemoBucket(stack.store(BUCKET), 'incoming/', { withOversize: false });
    gcsSeed = await seedDemoBucket(stack.gcs!.store(GCS_BUCKET), 'incoming/', { withOversize: false });
    for (const key of ['clips/a/one.mp4', 'clips/b/Two.MOV']) await stack.store(BUCKET).write(key, Buffer.alloc(70_000, 3));
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'bb-upload-e2e-'));
    stack.roboflow.setFaults({ signedUrlIngestRefused: true });
    stack.roboflow.requests.length = 0;
  });

  /** Without the stack's plain-http opt-in: each test that sends references opts in with the flag. */
  const env = () => Object.fromEntries(Object.entries({ ...stack.env, ...stack.gcs!.env }).filter(([name]) => name !== 'BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES'));
  const args = (source: string, dest: string, ...extra: string[]) => [
    'run',
    '--source', source,
    '--dest', dest,
    '--workspace', SANDBOX_WORKSPACE,
    '--workflow', SANDBOX_WORKFLOW,
    '--page-size', '10',
    '--poll-interval', '0.2',
    '--timeout', '60',
    '--state-dir', stateDir,
    '--quiet',
    ...extra,
  ];
  const calls = (fragment: string, method = 'POST') => stack.roboflow.requests.filter((r) => r.method === method && r.path.includes(fragment));

  async function expectResults(prefix: string, runId: string, keys: string[]) {
    const stored = (await listObjects(stack.store(BUCKET), `${prefix}${runId}/`)).map((o) => o.key);
    for (const key of keys) expect(stored.some((k) => k.includes(referenceName(key))), key).toBe(true);
    const names = (await text(await stack.store(BUCKET).read(`${prefix}${runId}/names.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
    expect(names).toEqual(expect.arrayContaining(keys.map((key) => ({ name: referenceName(key), key }))));
    expect(names).toHaveLength(keys.length);
  }

  it('--ingest auto: the plan refuses the references, the run switches to tar uploads by itself and says why', async () => {
    const result = await runCli(args(`s3://${BUCKET}/${s3Seed.prefix}`, `s3://${BUCKET}/auto/`, '--allow-http-references', '--chunk-size', '10'), env());
    expect(result.code, `${result.stderr} ${result.summary?.error ?? result.stdout.slice(0, 2000)}`).toBe(0);
    const s = result.summary!;
    expect(s).toMatchObject({ status: 'completed', submitted: s3Seed.images.length, ingested: s3Seed.images.length, failed: { total: 0 } });
    expect(s.ingest).toEqual({ mode: 'upload', reason: expect.stringMatching(/refused signed-URL references .*HTTP 403.*switched to uploads/) });
    // One refused references submission (the first chunk's), then archives only: nothing sent twice.
    expect(calls('/bulk-upload/image-references')).toHaveLength(1);
    const slots = calls('/bulk-upload/image-files').length;
    // 32 images in chunks of one listing page (10 listed): four chunks of at most 500 images, one archive each, each PUT once.
    expect(slots).toBe(4);
    expect(stack.roboflow.requests.filter((r) => r.method === 'PUT')).toHaveLength(slots);
    expect(calls('/upload/image')).toHaveLength(0);
    await expectResults('auto/', s.runId, s3Seed.images);
  });

  it('--ingest upload from GCS: no URL reaches Roboflow, so plain-http signing needs no opt-in', async () => {
    // The same run sending references is refused by the preflight (exit 2) before anything is written.
    const refused = await runCli(args(`gs://${GCS_BUCKET}/${gcsSeed.prefix}`, `s3://${BUCKET}/gcs/`, '--ingest', 'references'), env());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/https/);
    stack.roboflow.requests.length = 0;

    const result = await runCli(args(`gs://${GCS_BUCKET}/${gcsSeed.prefix}`, `s3://${BUCKET}/gcs/`, '--ingest', 'upload'), env());
    expect(result.code, `${result.stderr} ${result.summary?.error ?? result.stdout.slice(0, 2000)}`).toBe(0);
    const s = result.summary!;
    expect(s).toMatchObject({ status: 'completed', ingested: gcsSeed.images.length, ingest: { mode: 'upload', reason: 'asked for (ingest: upload)' } });
    expect(calls('/bulk-upload/image-references')).toHaveLength(0);
    expect(stack.roboflow.requests.map((r) => JSON.stringify(r))).not.toEqual(expect.arrayContaining([expect.stringMatching(/X-Goog-Signature|X-Amz-Signature/)]));
    await expectResults('gcs/', s.runId, gcsSeed.images);
  });

  it('--ingest upload with videos: each video goes through its own upload/video PUT', async () => {
    const result = await runCli([...args(`s3://${BUCKET}/clips/`, `s3://${BUCKET}/videos/`, '--ingest', 'upload'), '--media', 'videos'], env());
    expect(result.code, `${result.stderr} ${result.summary?.error ?? result.stdout.slice(0, 2000)}`).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', ingested: 2, ingest: { mode: 'upload' } });
    expect(calls('/upload/video').map((r) => r.query?.fileName ?? r.path)).toHaveLength(2);
    expect(calls('/bulk-upload/video-references')).toHaveLength(0);
  });

  it('--ingest references on the same plan fails on the refusal instead of switching', async () => {
    const result = await runCli(args(`s3://${BUCKET}/${s3Seed.prefix}`, `s3://${BUCKET}/refs/`, '--allow-http-references', '--ingest', 'references'), env());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Growth Plan/);
    expect(calls('/bulk-upload/image-files')).toHaveLength(0);
  });

  it('a run SIGKILLed between archives is resumed: the archives already put are not sent again, the rest once each', async () => {
    const slots = '/bulk-upload/image-files';
    // The third slot request is answered 503 with a long Retry-After: the process is killed while it waits.
    stack.roboflow.setFaults({ signedUrlIngestRefused: true, failures: [{ pathIncludes: slots, method: 'POST', status: 503, count: 1000, after: 2, retryAfterSeconds: 60 }] });
    const cli = spawnCli(args(`s3://${BUCKET}/${s3Seed.prefix}`, `s3://${BUCKET}/killed/`, '--ingest', 'upload', '--chunk-size', '10'), env());
    try {
      const deadline = Date.now() + 30_000;
      while (!calls(slots).some((r) => r.status === 503) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(calls(slots).some((r) => r.status === 503), 'the third slot request never arrived').toBe(true);
    } finally {
      cli.child.kill('SIGKILL');
    }
    await cli.exited(10_000);
    const putsBefore = stack.roboflow.requests.filter((r) => r.method === 'PUT').length;
    expect(putsBefore).toBe(2);
    stack.roboflow.setFaults({ signedUrlIngestRefused: true });
    const [runId] = (await readdir(join(stateDir, 'runs'))).filter((n) => !n.startsWith('.'));
    if (!runId) throw new Error('the killed run left no state');
    const result = await runCli(['resume', runId, '--state-dir', stateDir, '--poll-interval', '0.2', '--timeout', '60', '--quiet'], env());
    expect(result.code, `${result.stderr} ${result.summary?.error ?? ''}`).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', ingested: s3Seed.images.length, ingest: { mode: 'upload' } });
    // Four chunks of one archive each: two before the kill, two after, none twice.
    expect(stack.roboflow.requests.filter((r) => r.method === 'PUT' && r.status === 200)).toHaveLength(4);
    await expectResults('killed/', runId, s3Seed.images);
  });

  it('--ingest upload through webhooks (as the demo runs): uploads send no ingest notification, the API count starts the job', async () => {
    const port = await freePort();
    const result = await runCli(
      [...args(`s3://${BUCKET}/${s3Seed.prefix}`, `s3://${BUCKET}/hooks/`, '--ingest', 'upload'), '--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`],
      env(),
    );
    expect(result.code, `${result.stderr} ${result.summary?.error ?? result.stdout.slice(0, 2000)}`).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', ingested: s3Seed.images.length, ingest: { mode: 'upload' } });
  });
});
