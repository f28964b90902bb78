import { mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { referenceName } from '../../shared/pipeline/name';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { listObjects } from '../support/s3';
import { isResultKey } from '../support/run-files';

const BUCKET = 'e2e-media';

describe('bucket-bridge run, end to end on loopback', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;
  let stateDir: string;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 20, jobStageDelayMs: 30 } });
    seeded = await seedDemoBucket(stack.store(BUCKET));
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'bb-e2e-state-'));
    stack.roboflow.setFaults({});
  });

  const baseArgs = (dest: string) => [
    'run',
    '--source', `s3://${BUCKET}/${seeded.prefix}`,
    '--dest', `s3://${BUCKET}/${dest}/`,
    '--workspace', SANDBOX_WORKSPACE,
    '--workflow', SANDBOX_WORKFLOW,
    '--page-size', '7',
    '--timeout', '60',
    '--state-dir', stateDir,
    '--quiet',
  ];
  const webhookArgs = async () => {
    const port = await freePort();
    return ['--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`];
  };
  const jobsBefore = () => stack.roboflow.jobsStarted().length;

  async function expectResultsInBucket(dest: string, runId: string, exportedFiles: number) {
    const store = stack.store(BUCKET);
    const objects = await listObjects(store, `${dest}/${runId}/`);
    const keys = objects.map((o) => o.key);
    expect(keys).toContain(`${dest}/${runId}/summary.json`);
    expect(keys).toContain(`${dest}/${runId}/failed.jsonl`);
    expect(keys).toContain(`${dest}/${runId}/names.jsonl`);
    expect(keys).toContain(`${dest}/${runId}/report.html`);
    const results = keys.filter(isResultKey);
    expect(results).toHaveLength(exportedFiles);
    // Every submitted image has its own result file, named after its reference name.
    for (const key of seeded.images) expect(results.some((r) => r.includes(referenceName(key)))).toBe(true);
    const stored = JSON.parse(await text(await store.read(`${dest}/${runId}/summary.json`)));
    expect(stored.runId).toBe(runId);
    expect(stored.status).toBe('completed');
    const names = (await text(await store.read(`${dest}/${runId}/names.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
    expect(names).toHaveLength(seeded.images.length);
    expect(names).toEqual(expect.arrayContaining(seeded.images.map((key) => ({ name: referenceName(key), key }))));
  }

  it('runs the whole loop through webhooks', async () => {
    const before = jobsBefore();
    const result = await runCli([...baseArgs('via-webhooks'), ...(await webhookArgs())], stack.env);
    expect(result.stderr).not.toMatch(/X-Amz-Signature|api_key|local-[0-9a-f]{24}/);
    expect(result.code, result.stderr).toBe(0);
    const s = result.summary!;
    expect(s).toMatchObject({
      status: 'completed',
      listed: seeded.images.length + seeded.notMedia.length + seeded.tooLarge.length,
      skipped: { 'not-media': 1, 'too-large': 1 },
      submitted: seeded.images.length,
      ingested: seeded.images.length,
      jobState: 'success',
      failed: { total: 0 },
    });
    expect(s.exported.files).toBeGreaterThanOrEqual(seeded.images.length);
    expect(Object.keys(s.exported.parts).length).toBeGreaterThanOrEqual(2);
    expect(stack.roboflow.jobsStarted().length - before).toBe(1);
    await expectResultsInBucket('via-webhooks', s.runId, s.exported.files);

    const ingest = stack.roboflow.requests.find((r) => r.method === 'POST' && r.path.endsWith('/bulk-upload/image-references') && r.path.includes(s.target.batchId));
    expect(ingest?.query.displayName).toBe(s.target.batchId);
    expect(ingest?.body).toMatchObject({
      ingestId: `${s.target.batchId}-0`,
      notificationCategories: ['ingest-status', 'files-status'],
    });
    expect((ingest?.body as Record<string, string>).notificationsURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/[A-Za-z0-9_-]{43}$/);
  });

  it('re-exports a finished job to another destination with `export <jobId>`', async () => {
    const first = await runCli([...baseArgs('first-copy'), '--poll-interval', '0.05'], stack.env);
    expect(first.code, first.stderr).toBe(0);
    const { runId, target } = first.summary!;
    const again = await runCli(['export', target.jobId, '--dest', `s3://${BUCKET}/second-copy/`, '--keep-archives', '--state-dir', stateDir, '--quiet'], stack.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.summary).toMatchObject({ runId, status: 'completed', destination: `s3://${BUCKET}/second-copy/${runId}/` });
    const archives = (await listObjects(stack.store(BUCKET), `second-copy/${runId}/`)).filter((o) => o.key.endsWith('.tar.gz'));
    expect(archives.length).toBe(again.summary!.exported.files);
    expect(archives.length).toBeGreaterThan(1);
    const status = await runCli(['status', runId, '--state-dir', stateDir], stack.env);
    expect(status.code).toBe(0);
    expect(status.summary?.destination).toBe(`s3://${BUCKET}/second-copy/${runId}/`);
    const unknown = await runCli(['export', 'bb-unknown', '--state-dir', stateDir], stack.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/was not started from this state folder/);
  });

  it('runs the whole loop by polling when no webhook URL is configured', async () => {
    const before = jobsBefore();
    const deliveries = stack.roboflow.webhookDeliveries.length;
    const result = await runCli([...baseArgs('via-polling'), '--poll-interval', '0.05'], stack.env);
    expect(result.code, result.stderr).toBe(0);
    const s = result.summary!;
    expect(s).toMatchObject({ status: 'completed', submitted: seeded.images.length, ingested: seeded.images.length, jobState: 'success' });
    expect(stack.roboflow.jobsStarted().length - before).toBe(1);
    expect(stack.roboflow.webhookDeliveries.length).toBe(deliveries);
    const ingest = stack.roboflow.requests.find((r) => r.path.endsWith('/bulk-upload/image-references') && r.path.includes(s.target.batchId));
    expect(ingest?.body).not.toHaveProperty('notificationsURL');
    await expectResultsInBucket('via-polling', s.runId, s.exported.files);
  });

  it('starts one job and ends in the same state with duplicated, delayed and out-of-order webhooks', async () => {
    stack.roboflow.setFaults({ duplicateDeliveries: true, shuffleWebhooks: true, webhookDelayMs: 40 });
    const before = jobsBefore();
    const result = await runCli([...baseArgs('chaotic-webhooks'), ...(await webhookArgs())], stack.env);
    expect(result.code, result.stderr).toBe(0);
    const s = result.summary!;
    expect(s).toMatchObject({ status: 'completed', submitted: seeded.images.length, ingested: seeded.images.length, failed: { total: 0 } });
    expect(stack.roboflow.jobsStarted().length - before).toBe(1);
    const starts = stack.roboflow.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/jobs/${s.target.jobId}`));
    expect(starts).toHaveLength(1);
    const repeats = stack.roboflow.webhookDeliveries.filter((d) => d.body.delivery_attempt === 2 && (d.body.batch_id === s.target.batchId || d.body.job_id === s.target.jobId));
    expect(repeats.length).toBeGreaterThan(0);
    await expectResultsInBucket('chaotic-webhooks', s.runId, s.exported.files);
  });

  it('survives 429 and 503 bursts from Roboflow', async () => {
    stack.roboflow.setFaults({
      failures: [
        { pathIncludes: '/bulk-upload/image-references', status: 429, count: 2, retryAfterSeconds: 0 },
        { pathIncludes: '/count', status: 503, count: 2 },
        { pathIncludes: '/batch-processing/', method: 'POST', status: 503, count: 2 },
        { pathIncludes: '/list', status: 429, count: 1, retryAfterSeconds: 0 },
      ],
    });
    const result = await runCli([...baseArgs('bursts'), '--poll-interval', '0.05'], stack.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary?.status).toBe('completed');
    const throttled = stack.roboflow.requests.filter((r) => r.status === 429 || r.status === 503);
    expect(throttled.length).toBeGreaterThanOrEqual(7);
  });

  it.each([
    [500, /HTTP 500/],
    [402, /HTTP 402.*/],
  ])('fails the run with a clear message when starting the job answers %i', async (status, message) => {
    stack.roboflow.setFaults({
      failures: [{ pathIncludes: '/batch-processing/', method: 'POST', status, count: 1, body: { error: `emulated ${status}` } }],
    });
    const before = jobsBefore();
    const result = await runCli([...baseArgs(`fails-${status}`), '--poll-interval', '0.05'], stack.env);
    expect(result.code).toBe(1);
    expect(result.summary?.status).toBe('failed');
    expect(result.summary?.error).toMatch(message);
    expect(result.summary?.error).toContain(`emulated ${status}`);
    expect(stack.roboflow.jobsStarted().length).toBe(before);
    const starts = stack.roboflow.requests.filter((r) => r.method === 'POST' && r.path.includes('/batch-processing/') && r.status === status);
    expect(starts).toHaveLength(1);
    const stored = JSON.parse(await text(await stack.store(BUCKET).read(`fails-${status}/${result.summary!.runId}/summary.json`)));
    expect(stored.error).toMatch(message);
  });

  it.each([
    [['--source', 'http://not-a-bucket/x'], {}, /--source: expected a bucket URL/],
    [[], { ROBOFLOW_API_KEY: '' }, /ROBOFLOW_API_KEY: expected your Roboflow private API key/],
    [['--workspace', 'my workspace!'], {}, /--workspace: expected a Roboflow workspace slug/],
    [['--workflow', 'a/b'], {}, /--workflow: expected a Roboflow workflow id/],
    [['--url-lifetime', '604801'], {}, /--url-lifetime: expected whole seconds between 60 and 604800/],
    [['--media', 'audio'], {}, /--media: expected images or videos/],
  ])('rejects bad input %j naming the field, writing nothing', async (override, envOverride, message) => {
    const args = baseArgs('never');
    for (let i = 0; i < override.length; i += 2) {
      const at = args.indexOf(override[i]!);
      if (at === -1) args.push(override[i]!, override[i + 1]!);
      else args[at + 1] = override[i + 1]!;
    }
    const freshState = join(stateDir, 'must-not-exist');
    args[args.indexOf('--state-dir') + 1] = freshState;
    const requestsBefore = stack.roboflow.requests.length;
    const result = await runCli(args, { ...stack.env, ...envOverride });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(freshState)).toBe(false);
    expect(stack.roboflow.requests.length).toBe(requestsBefore);
    expect(await listObjects(stack.store(BUCKET), 'never/')).toEqual([]);
  });
});
