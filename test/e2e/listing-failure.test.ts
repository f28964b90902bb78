import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';
import { startS3Proxy } from '../support/s3-proxy';
import { listObjects } from '../support/s3';
import { text } from 'node:stream/consumers';

describe('a listing error part-way through', () => {
  let stack: LocalStack;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['flaky'] });
    await seedDemoBucket(stack.store('flaky'), 'incoming/', { withOversize: false });
    proxy = await startS3Proxy(stack.s3.endpoint);
    proxy.arm('fail');
  });
  afterAll(async () => {
    await proxy.close();
    await stack.close();
  });

  it.each([
    ['before any chunk was submitted', '20000'],
    ['after a chunk was already submitted', '5'],
  ])('fails the run loudly %s and never starts a job', async (_label, chunkSize) => {
    const jobsBefore = stack.roboflow.jobsStarted().length;
    const result = await runCli(
      [
        'run',
        '--source', 's3://flaky/incoming/',
        '--dest', 's3://flaky/results/',
        '--workspace', SANDBOX_WORKSPACE,
        '--workflow', SANDBOX_WORKFLOW,
        '--page-size', '7',
        '--chunk-size', chunkSize,
        '--poll-interval', '0.05',
        '--state-dir', await tempDir('bb-flaky-'),
        '--quiet',
      ],
      { ...stack.env, AWS_ENDPOINT_URL_S3: proxy.url },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: .*(disk on fire|InternalError)/);
    expect(proxy.faults()).toBeGreaterThanOrEqual(1);
    expect(stack.roboflow.jobsStarted().length).toBe(jobsBefore);
    expect(result.stdout).toBe('');
    const summaries = (await listObjects(stack.store('flaky'), 'results/')).filter((o) => o.key.endsWith('/summary.json'));
    const latest = summaries.sort((a, b) => a.key.localeCompare(b.key)).at(-1)!;
    const summary = JSON.parse(await text(await stack.store('flaky').read(latest.key)));
    expect(summary.status).toBe('failed');
    expect(summary).not.toHaveProperty('jobState');
    expect(summary.error).toMatch(/^submission failed: .*(disk on fire|InternalError)/);
  });
});
