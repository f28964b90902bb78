import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { referenceName } from '../../shared/pipeline/name';
import { waitByPolling } from '../../shared/run/poll';
import { startRun } from '../../shared/run/start-run';
import { batchIdFor, jobIdFor } from '../../shared/targets/roboflow/ids';
import { runCli } from '../support/cli';
import { specFor, stackDeps } from '../support/domain';
import { listObjects } from '../support/s3';
import { isResultKey } from '../support/run-files';

const BUCKET = 'open-behaviours';

/**
 * What Roboflow's documents leave open, each an emulator switch tried both ways through the real
 * CLI loop (or the pipeline with the Roboflow target over HTTP): the stage holding the results, a
 * repeated job POST, and which references Roboflow refuses (plain http, untrusted hosts).
 */
describe('Roboflow behaviours the documents leave open', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;
  let stateDir: string;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 20, jobStageDelayMs: 30 } });
    seeded = await seedDemoBucket(stack.store(BUCKET), 'incoming/', { withOversize: false });
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'bb-open-state-'));
    stack.roboflow.setFaults({});
  });

  const args = (dest: string, ...extra: string[]) => [
    'run',
    '--source', `s3://${BUCKET}/${seeded.prefix}`,
    '--dest', `s3://${BUCKET}/${dest}/`,
    '--workspace', SANDBOX_WORKSPACE,
    '--workflow', SANDBOX_WORKFLOW,
    '--page-size', '7',
    '--poll-interval', '0.05',
    '--timeout', '60',
    '--state-dir', stateDir,
    '--quiet',
    ...extra,
  ];
  const jobPosts = (jobId: string) => stack.roboflow.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/jobs/${jobId}`));
  const storedSummary = async (dest: string, runId: string) => JSON.parse(await text(await stack.store(BUCKET).read(`${dest}/${runId}/summary.json`)));
  const resultKeys = async (dest: string, runId: string) =>
    (await listObjects(stack.store(BUCKET), `${dest}/${runId}/`)).map((o) => o.key).filter(isResultKey);

  describe('the stage holding the results', () => {
    it.each([
      ['export', undefined],
      ['archive', 'archive'],
    ])('copies the results of a job whose packing stage is named %s, and names the stage in the summary', async (stage, exportStageName) => {
      stack.roboflow.setFaults({ exportStageName });
      const dest = `stage-${stage}`;
      const result = await runCli(args(dest), stack.env);
      expect(result.code, result.stderr).toBe(0);
      const s = result.summary!;
      expect(s).toMatchObject({ status: 'completed', jobState: 'success', resultsStage: stage, submitted: seeded.images.length });
      expect((await storedSummary(dest, s.runId)).resultsStage).toBe(stage);
      const results = await resultKeys(dest, s.runId);
      expect(results).toHaveLength(s.exported.files);
      // The packing stage's archives are unpacked: one result per image, named after its reference.
      for (const key of seeded.images) expect(results.some((r) => r.endsWith(`/${referenceName(key)}.json`))).toBe(true);
    });

    it('copies the processing output when the job has no packing stage at all', async () => {
      stack.roboflow.setFaults({ exportStageName: null });
      const result = await runCli(args('stage-none'), stack.env);
      expect(result.code, result.stderr).toBe(0);
      const s = result.summary!;
      expect(s).toMatchObject({ status: 'completed', resultsStage: 'processing' });
      const results = await resultKeys('stage-none', s.runId);
      expect(results.length).toBeGreaterThan(0);
      expect(results.every((k) => /\/results\/results-\d{4}\.jsonl$/.test(k))).toBe(true);
      const rows = [];
      for (const key of results) rows.push(...(await text(await stack.store(BUCKET).read(key))).trim().split('\n').map((l) => JSON.parse(l)));
      expect(rows.map((r) => r.name).sort()).toEqual(seeded.images.map(referenceName).sort());
    });
  });

  describe('a repeated job POST', () => {
    it.each([
      ['200 for the same definition (the emulator rule)', undefined],
      ['409', 409],
      ['400', 400],
    ])('carries on with exactly one job when the first answer is lost and the repeat is answered %s', async (_label, repeatedJobPostStatus) => {
      stack.roboflow.setFaults({ lostJobStartAnswers: 1, repeatedJobPostStatus });
      const before = stack.roboflow.jobsStarted().length;
      const result = await runCli(args(`repeat-${repeatedJobPostStatus ?? 'rule'}`), stack.env);
      expect(result.code, result.stderr).toBe(0);
      const s = result.summary!;
      expect(s).toMatchObject({ status: 'completed', jobState: 'success', resultsStage: 'export' });
      expect(stack.roboflow.jobsStarted().length - before).toBe(1);
      expect(jobPosts(s.target.jobId).map((r) => r.status)).toEqual([504, repeatedJobPostStatus ?? 200]);
    });

    it.each([
      ['409 for another definition (the emulator rule)', undefined],
      ['200 whatever the body', 200],
    ])('fails the run clearly when the job id exists on another batch, answered %s', async (_label, repeatedJobPostStatus) => {
      // A first run leaves a job on its batch; the second run's job id is then taken there.
      const deps = await stackDeps(stack, BUCKET);
      const first = await startRun(deps, specFor(`s3://${BUCKET}/${seeded.prefix}`, `s3://${BUCKET}/other-batch-a/`), `other-a-${repeatedJobPostStatus ?? 'rule'}`);
      const firstDone = await waitByPolling(deps, first.runId, { intervalMs: 50, timeoutMs: 30_000 });
      expect(firstDone.phase).toBe('completed');
      const runId = `other-b-${repeatedJobPostStatus ?? 'rule'}`;
      const takenJobId = jobIdFor(batchIdFor(runId));
      const url = new URL(`/batch-processing/v1/external/${SANDBOX_WORKSPACE}/jobs/${takenJobId}`, stack.roboflow.url);
      url.searchParams.set('api_key', stack.apiKey);
      const definition = (stack.roboflow.requests.find((r) => r.method === 'POST' && r.path.endsWith(`/jobs/${first.jobId}`))!.body) as object;
      expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(definition) })).status).toBe(200);

      stack.roboflow.setFaults({ repeatedJobPostStatus });
      const jobsBefore = stack.roboflow.jobsStarted().length;
      const second = await startRun(deps, specFor(`s3://${BUCKET}/${seeded.prefix}`, `s3://${BUCKET}/other-batch-b/`), runId);
      const done = await waitByPolling(deps, second.runId, { intervalMs: 50, timeoutMs: 30_000 });
      expect(done.phase).toBe('failed');
      expect(done.error).toContain(`job ${takenJobId} already exists at Roboflow on batch ${first.batchId}, not on this run's batch ${second.batchId}`);
      expect(stack.roboflow.jobsStarted().length).toBe(jobsBefore);
      expect(jobPosts(takenJobId).at(-1)?.status).toBe(repeatedJobPostStatus ?? 409);
    });
  });

  describe('plain-http references', () => {
    const withoutOptIn = () => ({ ...stack.env, BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES: undefined });

    it.each([
      ['accepts them', false],
      ['refuses them', true],
    ])('are refused before anything is written without the opt-in (the emulator %s)', async (_label, refuseHttpReferences) => {
      stack.roboflow.setFaults({ refuseHttpReferences });
      const fresh = join(stateDir, 'must-not-exist');
      const requestsBefore = stack.roboflow.requests.length;
      const argv = args('http-refused');
      argv[argv.indexOf('--state-dir') + 1] = fresh;
      const result = await runCli(argv, withoutOptIn());
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/--source: expected https signed URLs \(Roboflow's official client refuses http:\/\/ references URLs; the API's answer to them is not documented; .*--allow-http-references.*\), got "http:\/\/127\.0\.0\.1:\d+"/);
      expect(result.stderr).not.toMatch(/X-Amz-Signature/);
      expect(existsSync(fresh)).toBe(false);
      expect(stack.roboflow.requests.length).toBe(requestsBefore);
      expect(await listObjects(stack.store(BUCKET), 'http-refused/')).toEqual([]);
      expect(await listObjects(stack.store(BUCKET), 'bucket-bridge/manifests/')).not.toContainEqual(expect.objectContaining({ key: expect.stringContaining('preflight') }));
    });

    it('are submitted with --allow-http-references, and the run completes where they are taken', async () => {
      const result = await runCli(args('http-allowed', '--allow-http-references'), withoutOptIn());
      expect(result.code, result.stderr).toBe(0);
      expect(result.summary).toMatchObject({ status: 'completed', submitted: seeded.images.length });
    });

    it('end the run with the refusal when opted in but refused by Roboflow', async () => {
      stack.roboflow.setFaults({ refuseHttpReferences: true });
      const before = stack.roboflow.jobsStarted().length;
      const result = await runCli(args('http-allowed-refused', '--allow-http-references'), withoutOptIn());
      expect(result.code).toBe(1);
      const refusal = /HTTP 400: references must be https:\/\/ URLs; got one on http:\/\/127\.0\.0\.1:\d+/;
      expect(result.stderr).toMatch(refusal);
      const summaries = (await listObjects(stack.store(BUCKET), 'http-allowed-refused/')).filter((o) => o.key.endsWith('/summary.json'));
      expect(summaries).toHaveLength(1);
      const stored = JSON.parse(await text(await stack.store(BUCKET).read(summaries[0]!.key)));
      expect(stored).toMatchObject({ status: 'failed', error: expect.stringMatching(refusal) });
      expect(stack.roboflow.jobsStarted().length).toBe(before);
    });
  });

  describe('untrusted hosts', () => {
    it.each([
      ['polling', async () => [] as string[]],
      ['webhooks', async () => {
        const port = await freePort();
        return ['--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`];
      }],
    ])('an unsafe-url-detected ingest fails the run with a message naming the host (%s)', async (mode, waitArgs) => {
      stack.roboflow.setFaults({ untrustedHosts: ['127.0.0.1'] });
      const before = stack.roboflow.jobsStarted().length;
      const result = await runCli(args(`untrusted-${mode}`, ...(await waitArgs())), stack.env);
      expect(result.code).toBe(1);
      const error = result.summary?.error ?? '';
      expect(error).toMatch(/unsafe-url-detected: Roboflow refused to download from host 127\.0\.0\.1:\d+, which it does not trust/);
      expect(error).toContain('ask Roboflow to trust 127.0.0.1:');
      expect(error).not.toMatch(/X-Amz|\/manifests\//);
      expect(stack.roboflow.jobsStarted().length).toBe(before);
    });
  });
});
