import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLlamaCloudEmulator, type RunningLlamaEmulator } from '../../sandbox/llamacloud-emulator';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { localS3Env, startLocalS3, type LocalS3Server } from '../../sandbox/s3-server';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { referenceName } from '../../shared/pipeline/name';
import { RunRecord } from '../../shared/state/run-record';
import { createS3Client } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { ingestIdFor } from '../../shared/targets/roboflow/ids';
import { runCli } from '../support/cli';
import { spawnCli } from '../support/cli-process';
import { tempDir } from '../support/domain';
import { listObjects } from '../support/s3';
import { startHoldingProxy } from '../support/holding-proxy';
import { startS3Proxy } from '../support/s3-proxy';
import { isResultKey } from '../support/run-files';
import { readChunks } from '../../shared/state/run-chunks';
import { FileStateStore } from '../../shared/state/file-state';

const BUCKET = 'resume-media';
const INGEST_PATH = 'bulk-upload/image-references';

/** Polls `done` every 20 ms for at most `withinMs`. */
async function until(done: () => boolean | Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return done();
}

describe('bucket-bridge resume and status after the CLI process ended early (issue 10 item 8)', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;
  let stateDir: string;
  /** Emulator requests before this test's run. */
  let requestsBefore = 0;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 20, jobStageDelayMs: 30 } });
    seeded = await seedDemoBucket(stack.store(BUCKET), 'incoming/', { withOversize: false });
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    stateDir = await tempDir('bb-resume-state-');
    stack.roboflow.setFaults({});
  });

  const runArgs = (dest: string, extra: string[] = []) => [
    'run',
    '--source', `s3://${BUCKET}/${seeded.prefix}`,
    '--dest', `s3://${BUCKET}/${dest}/`,
    '--workspace', SANDBOX_WORKSPACE,
    '--workflow', SANDBOX_WORKFLOW,
    '--page-size', '4',
    '--chunk-size', '8',
    '--poll-interval', '0.1',
    '--timeout', '60',
    '--state-dir', stateDir,
    '--quiet',
    ...extra,
  ];
  const ingestRequests = (batchId?: string) =>
    stack.roboflow.requests.filter((r) => r.method === 'POST' && r.path.includes(INGEST_PATH) && (!batchId || r.path.includes(`/batches/${batchId}/`)));
  const readRun = async (runId: string) => RunRecord.parse(JSON.parse(await readFile(join(stateDir, 'runs', runId, 'run.json'), 'utf8')));
  const chunksOf = (runId: string) => readChunks(new FileStateStore(stateDir), runId);
  const onlyRunId = async () => {
    const ids = await readdir(join(stateDir, 'runs'));
    expect(ids).toHaveLength(1);
    return ids[0]!;
  };

  /**
   * Starts the real CLI, lets it submit two chunks, holds the third ingest request ("503, retry in
   * 60 s") so the process sits in the middle of submitting, and SIGKILLs it there.
   */
  async function killMidSubmission(dest: string, extra: string[] = [], whileHeld?: (runId: string) => Promise<void>): Promise<string> {
    const before = ingestRequests().length;
    requestsBefore = stack.roboflow.requests.length;
    stack.roboflow.setFaults({ failures: [{ pathIncludes: INGEST_PATH, method: 'POST', status: 503, count: 1000, after: 2, retryAfterSeconds: 60 }] });
    const cli = spawnCli(runArgs(dest, extra), stack.env);
    try {
      const held = await until(() => ingestRequests().slice(before).some((r) => r.status === 503), 30_000);
      expect(held, 'the third ingest request never arrived').toBe(true);
      await whileHeld?.(await onlyRunId());
    } finally {
      cli.child.kill('SIGKILL');
    }
    expect((await cli.exited(10_000)).code).not.toBe(0);
    stack.roboflow.setFaults({});
    return onlyRunId();
  }

  /** `resent`: a chunk the target had taken before the kill, sent again under its ingest id. */
  async function expectCompletedOnce(runId: string, dest: string, jobsBefore: number, resent: string[] = []) {
    const run = await readRun(runId);
    expect(run.phase).toBe('completed');
    // One batch, one ingest id per chunk index, each accepted exactly once (the held one was refused, then sent again).
    const chunks = await chunksOf(runId);
    const chunkIds = chunks.map((c) => c.ingestId);
    expect(chunkIds).toEqual(chunks.map((_, i) => ingestIdFor(run.batchId, i)));
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const accepted = ingestRequests(run.batchId).filter((r) => r.status === 200).map((r) => (r.body as { ingestId: string }).ingestId);
    expect([...accepted].sort()).toEqual([...chunkIds, ...resent].sort());
    expect(chunks.filter((c) => c.duplicated).map((c) => c.ingestId)).toEqual(resent);
    const elsewhere = stack.roboflow.requests.slice(requestsBefore).filter((r) => r.path.includes(INGEST_PATH) && !r.path.includes(`/batches/${run.batchId}/`));
    expect(elsewhere).toHaveLength(0);
    // Across the references files every image is referenced exactly once: nothing twice, nothing skipped.
    const referenced: string[] = [];
    for (const chunk of chunks) {
      const lines = (await text(await stack.store(BUCKET).read(chunk.manifestKey))).trim().split('\n');
      referenced.push(...lines.map((l) => (JSON.parse(l) as { name: string }).name));
    }
    expect(referenced.sort()).toEqual(seeded.images.map(referenceName).sort());
    // Exactly one job.
    expect(stack.roboflow.jobsStarted().slice(jobsBefore)).toEqual([run.jobId]);
    // Results, names and the summary are in the destination.
    const keys = (await listObjects(stack.store(BUCKET), `${dest}/${runId}/`)).map((o) => o.key);
    const results = keys.filter(isResultKey);
    expect(results).toHaveLength(seeded.images.length);
    const names = (await text(await stack.store(BUCKET).read(`${dest}/${runId}/names.jsonl`))).trim().split('\n');
    expect(names).toHaveLength(seeded.images.length);
    const summary = JSON.parse(await text(await stack.store(BUCKET).read(`${dest}/${runId}/summary.json`)));
    expect(summary).toMatchObject({ status: 'completed', submitted: seeded.images.length, ingested: seeded.images.length, failed: { total: 0 } });
  }

  it('continues a run SIGKILLed mid-submission: same ingest ids, each chunk once, one job, results exported', async () => {
    const jobsBefore = stack.roboflow.jobsStarted().length;
    const runId = await killMidSubmission('killed', [], async (id) => {
      // While its process is alive the run is in progress, and nobody else may drive it.
      expect((await runCli(['status', id, '--state-dir', stateDir], stack.env)).summary?.status).toBe('in-progress');
      const second = await runCli(['resume', id, '--state-dir', stateDir, '--quiet'], stack.env);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`run ${id} is being driven by the run process \\d+`));
    });
    const killed = await readRun(runId);
    expect(killed).toMatchObject({ phase: 'discovering', jobStarted: false, checkpoint: { nextChunk: 2 } });

    const status = await runCli(['status', runId, '--state-dir', stateDir], stack.env);
    expect(status.code).toBe(0);
    expect(status.summary?.status).toBe('interrupted');
    expect(status.summary?.interruption?.reason).toMatch(/run process \(pid \d+\) ended without finishing it/);
    expect(status.stderr).toContain(`bucket-bridge resume ${runId}`);

    const result = await runCli(['resume', runId, '--state-dir', stateDir, '--poll-interval', '0.1', '--timeout', '60', '--quiet'], stack.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ runId, status: 'completed', exported: { files: seeded.images.length } });
    await expectCompletedOnce(runId, 'killed', jobsBefore);

    const after = await runCli(['status', runId, '--state-dir', stateDir], stack.env);
    expect(after.summary?.status).toBe('completed');
  });

  it('sends a chunk the target took just before the kill again under its ingest id: a duplicate, staged once', async () => {
    const jobsBefore = stack.roboflow.jobsStarted().length;
    requestsBefore = stack.roboflow.requests.length;
    const proxy = await startHoldingProxy(stack.roboflow.url);
    let runId: string;
    try {
      // The third ingest reaches Roboflow, which starts ingesting it; its answer never reaches the CLI.
      proxy.holdAnswers((req) => req.method === 'POST' && (req.url ?? '').includes(INGEST_PATH), 2);
      const cli = spawnCli(runArgs('taken'), { ...stack.env, ROBOFLOW_API_URL: proxy.url });
      try {
        expect(await until(() => proxy.held() === 1, 30_000), 'the third ingest was never held').toBe(true);
      } finally {
        cli.child.kill('SIGKILL');
      }
      await cli.exited(10_000);
      runId = await onlyRunId();
    } finally {
      await proxy.close();
    }
    const third = ingestIdFor((await readRun(runId)).batchId, 2);
    expect((await chunksOf(runId)).find((c) => c.index === 2)).toMatchObject({ ingestId: third, status: 'written' });

    const result = await runCli(['resume', runId, '--state-dir', stateDir, '--poll-interval', '0.1', '--timeout', '60', '--quiet'], stack.env);
    expect(result.code, result.stderr).toBe(0);
    await expectCompletedOnce(runId, 'taken', jobsBefore, [third]);
  });

  it('resumes on webhooks: what the killed process awaited is polled, what it submits itself reports by webhook', async () => {
    const first = await freePort();
    const runId = await killMidSubmission('killed-webhooks', ['--webhook-url', `http://127.0.0.1:${first}`, '--webhook-listen', `127.0.0.1:${first}`]);

    // A new run of the same source says the earlier one is unfinished and how to continue it.
    const again = await runCli(runArgs('again').filter((a) => a !== '--quiet'), stack.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`run ${runId} of the same source never finished (discovering); continue it with \`bucket-bridge resume ${runId}\``);

    const jobsBefore = stack.roboflow.jobsStarted().length;
    requestsBefore = stack.roboflow.requests.length;
    const port = await freePort();
    const result = await runCli(
      ['resume', runId, '--state-dir', stateDir, '--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`, '--poll-interval', '0.1', '--timeout', '60', '--quiet'],
      stack.env,
    );
    expect(result.code, result.stderr).toBe(0);
    await expectCompletedOnce(runId, 'killed-webhooks', jobsBefore);
    // The chunks the resumed process submitted asked for its own receiver.
    const resumedIngests = stack.roboflow.requests.slice(requestsBefore).filter((r) => r.path.includes(INGEST_PATH));
    expect(resumedIngests.length).toBeGreaterThanOrEqual(2);
    for (const r of resumedIngests) expect((r.body as { notificationsURL?: string }).notificationsURL).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/`));
  });

  it('refuses to resume a run that already ended or does not exist', async () => {
    const result = await runCli(runArgs('done'), stack.env);
    expect(result.code, result.stderr).toBe(0);
    const runId = result.summary!.runId;
    const ended = await runCli(['resume', runId, '--state-dir', stateDir], stack.env);
    expect(ended.code).toBe(0);
    expect(ended.stderr).toContain(`run ${runId} already ended (completed): nothing to resume`);
    expect(await runCli(['resume', 'no-such-run', '--state-dir', stateDir], stack.env)).toMatchObject({ code: 1 });
  });

  it('status does not say in-progress once the CLI exited with a failure during export', async () => {
    const proxy = await startS3Proxy(stack.s3.endpoint);
    try {
      // The destination takes the preflight probe, then refuses every result and the summary.
      proxy.failWith({ match: (r) => r.method === 'PUT' && r.path.includes('/export-refused/') && !r.path.includes('bucket-bridge-probe'), status: 403, code: 'AccessDenied', count: 100_000 });
      const env = { ...stack.env, AWS_ENDPOINT_URL_S3: proxy.url };
      const result = await runCli(runArgs('export-refused', ['--chunk-size', '40']), env);
      expect(result.code).toBe(1);
      const runId = await onlyRunId();
      const status = await runCli(['status', runId, '--state-dir', stateDir], stack.env);
      expect(status.code).toBe(0);
      expect(status.summary?.status).not.toBe('in-progress');
      expect(status.summary?.status).toBe('interrupted');
      expect(status.summary?.interruption?.reason).toMatch(/AccessDenied \(403\)/);
      expect(status.stderr).toContain(`bucket-bridge resume ${runId}`);

      // Once the destination takes writes again, resume copies the results again and ends the run.
      const jobs = stack.roboflow.jobsStarted().length;
      const resumed = await runCli(['resume', runId, '--state-dir', stateDir, '--poll-interval', '0.1', '--timeout', '60', '--quiet'], stack.env);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.summary).toMatchObject({ status: 'completed', exported: { files: seeded.images.length }, failed: { total: 0 } });
      expect(stack.roboflow.jobsStarted().length).toBe(jobs);
    } finally {
      await proxy.close();
    }
  });

  it('status says interrupted when the CLI gave up waiting (--timeout), and resume waits again and exports', async () => {
    // Starting the job is answered "503, retry in 1 s": the wait of 1 s is over once the job runs.
    stack.roboflow.setFaults({ failures: [{ pathIncludes: '/batch-processing/', method: 'POST', status: 503, count: 1, retryAfterSeconds: 1 }] });
    const jobsBefore = stack.roboflow.jobsStarted().length;
    const args = runArgs('timed-out', ['--chunk-size', '40', '--poll-interval', '5']);
    args[args.indexOf('--timeout') + 1] = '1';
    const result = await runCli(args, stack.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/still processing when the wait timed out/);
    const runId = await onlyRunId();
    const status = await runCli(['status', runId, '--state-dir', stateDir], stack.env);
    expect(status.summary?.status).toBe('interrupted');
    expect(status.summary?.interruption?.reason).toMatch(/still processing when the wait timed out/);

    const resumed = await runCli(['resume', runId, '--state-dir', stateDir, '--poll-interval', '0.1', '--timeout', '60', '--quiet'], stack.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.summary).toMatchObject({ status: 'completed', exported: { files: seeded.images.length } });
    expect(stack.roboflow.jobsStarted().slice(jobsBefore)).toEqual([resumed.summary!.target.jobId]);
  });
});

describe('bucket-bridge resume of a LlamaCloud run SIGKILLed mid-submission', () => {
  let s3: LocalS3Server;
  let llama: RunningLlamaEmulator;
  const documents = ['in/a.pdf', 'in/b b.pdf', 'in/c+c.docx'];

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['papers'] });
    const store = new S3Store(createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials }), 'papers');
    for (const key of documents) await store.write(key, `%PDF-1.7 ${key}`);
    llama = await startLlamaCloudEmulator({ apiKey: 'lk', jobDelayMs: 10 });
  });
  afterAll(async () => {
    await llama.close();
    await s3.close();
  });

  it('creates each chunk\'s directory, upload and batch once across the kill and the resume', async () => {
    const stateDir = await tempDir('bb-resume-llama-');
    const env = { ...localS3Env(s3), LLAMA_CLOUD_API_KEY: 'lk', LLAMA_CLOUD_BASE_URL: llama.url };
    const created = (path: string) => llama.requests.filter((r) => r.method === 'POST' && r.path.endsWith(path) && r.status === 200).length;
    // The second batch creation is answered "503, retry in 60 s": its directory and upload are done.
    llama.setFaults({ failures: [{ pathIncludes: '/api/v2/batches', method: 'POST', status: 503, count: 1000, after: 1, retryAfterSeconds: 60 }] });
    const cli = spawnCli(
      ['run', '--target', 'llamacloud', '--llamacloud-configuration', 'cfg-PARSE_AGENTIC', '--source', 's3://papers/in/', '--dest', 's3://papers/out/', '--page-size', '1', '--chunk-size', '1', '--state-dir', stateDir, '--quiet'],
      env,
    );
    try {
      const held = await until(() => llama.requests.some((r) => r.path === '/api/v2/batches' && r.status === 503), 30_000);
      expect(held, 'the second batch creation never arrived').toBe(true);
    } finally {
      cli.child.kill('SIGKILL');
    }
    await cli.exited(10_000);
    llama.setFaults({});
    const [runId] = await readdir(join(stateDir, 'runs'));
    expect(created('/api/v2/batches')).toBe(1);

    const result = await runCli(['resume', runId!, '--state-dir', stateDir, '--poll-interval', '0.05', '--timeout', '60', '--quiet'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', submitted: 3, exported: { files: 3 }, failed: { total: 0 } });
    expect(created('/api/v2/batches')).toBe(3);
    expect(created('/api/v1/beta/directories')).toBe(3);
    expect(created('/files/upload')).toBe(3);
  });
});
