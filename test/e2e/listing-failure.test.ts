import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';
import { listObjects } from '../support/s3';
import { text } from 'node:stream/consumers';

/** Forwards to the S3 server, but every listing request for a second page fails with a 500. */
function failingSecondPageProxy(target: string): Promise<{ url: string; failures: () => number; server: Server }> {
  let failures = 0;
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.searchParams.get('list-type') === '2' && url.searchParams.has('continuation-token')) {
      failures++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml' }).end('<Error><Code>InternalError</Code><Message>disk on fire</Message></Error>');
      return;
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(forward);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, failures: () => failures, server })),
  );
}

describe('a listing error part-way through', () => {
  let stack: LocalStack;
  let proxy: Awaited<ReturnType<typeof failingSecondPageProxy>>;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['flaky'] });
    await seedDemoBucket(stack.store('flaky'), 'incoming/', { withOversize: false });
    proxy = await failingSecondPageProxy(stack.s3.endpoint);
  });
  afterAll(async () => {
    proxy.server.close();
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
    expect(proxy.failures()).toBeGreaterThanOrEqual(1);
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
