import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';
import { listObjects } from '../support/s3';
import { startS3Proxy } from '../support/s3-proxy';

const MEDIA = 'pf-media';
const LOCKED = 'pf-locked';
const MANIFESTS = 'bucket-bridge/manifests/';

/**
 * Before the first submission the CLI checks that the run can work end to end; a destination or a
 * key that cannot work is bad input (exit 2) and nothing is submitted or written.
 */
describe('bucket-bridge run preflight', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [MEDIA, LOCKED] });
    seeded = await seedDemoBucket(stack.store(MEDIA), 'incoming/', { withOversize: false });
    proxy = await startS3Proxy(stack.s3.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await stack.close();
  });
  beforeEach(() => {
    stack.roboflow.setFaults({});
    stack.roboflow.requests.length = 0;
    proxy.reset();
  });

  const run = async (overrides: { source?: string; dest?: string; workspace?: string; env?: NodeJS.ProcessEnv } = {}) =>
    runCli(
      [
        'run',
        '--source', overrides.source ?? `s3://${MEDIA}/${seeded.prefix}`,
        '--dest', overrides.dest ?? `s3://${MEDIA}/results/`,
        '--workspace', overrides.workspace ?? SANDBOX_WORKSPACE,
        '--workflow', SANDBOX_WORKFLOW,
        '--poll-interval', '0.05',
        '--timeout', '30',
        '--state-dir', await tempDir('bb-preflight-'),
        '--quiet',
      ],
      // Local S3 signs http:// URLs; the opt-in for them is read from the environment.
      { ...stack.env, BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES: 'true', ...overrides.env },
    );

  /** Nothing reached Roboflow but the access check, and no references file was written. */
  async function expectNothingSubmitted() {
    const beyondAccessCheck = stack.roboflow.requests.filter((r) => r.path !== '/');
    expect(beyondAccessCheck.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(await listObjects(stack.store(MEDIA), MANIFESTS)).toEqual([]);
  }

  it('a source bucket that does not exist: exit 2 naming --source, nothing written or submitted', async () => {
    const result = await run({ source: 's3://pf-no-such-source/incoming/' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: --source: expected a bucket and prefix the credentials can list \(listing was refused: .*NoSuchBucket.*\), got "s3:\/\/pf-no-such-source\/incoming\/"$/m);
    expect(stack.roboflow.requests).toEqual([]);
    expect(await listObjects(stack.store(MEDIA), 'results/')).toEqual([]);
  });

  it('a destination bucket that does not exist: exit 2 naming --dest, no ingest, no references file', async () => {
    const result = await run({ dest: 's3://pf-no-such-bucket/results/' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: --dest: expected a destination the credentials can write to \(a probe write was refused: .*s3:\/\/pf-no-such-bucket\/results\/\.bucket-bridge-probe-[0-9a-f]{12}.*NoSuchBucket.*\), got "s3:\/\/pf-no-such-bucket\/results\/"$/m);
    expect(result.stdout).toBe('');
    await expectNothingSubmitted();
    expect(stack.roboflow.requests).toEqual([]);
  });

  it('a destination that refuses PutObject (403 AccessDenied): exit 2 naming --dest, no ingest, no references file', async () => {
    proxy.failWith({ match: (r) => r.method === 'PUT' && r.path.startsWith(`/${LOCKED}/`), status: 403, code: 'AccessDenied', message: 'Access Denied', count: 100 });
    const result = await run({ dest: `s3://${LOCKED}/out/`, env: { AWS_ENDPOINT_URL_S3: proxy.url } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: --dest: expected a destination the credentials can write to \(a probe write was refused: .*AccessDenied.*403.*\), got "s3:\/\/pf-locked\/out\/"$/m);
    const puts = proxy.requests.filter((r) => r.method === 'PUT');
    // The refused probe was the only write attempted, under the destination prefix.
    expect(puts.map((r) => r.path)).toEqual([expect.stringMatching(new RegExp(`^/${LOCKED}/out/\\.bucket-bridge-probe-[0-9a-f]{12}$`))]);
    await expectNothingSubmitted();
    expect(stack.roboflow.requests).toEqual([]);
  });

  it('a writable destination: the probe is written under the destination prefix and removed again', async () => {
    // The key check fails after the destination check, so the run stops right there.
    const result = await run({ dest: `s3://${LOCKED}/probed/`, workspace: 'someone-else', env: { AWS_ENDPOINT_URL_S3: proxy.url } });
    expect(result.code, result.stderr).toBe(2);
    const probes = proxy.requests.filter((r) => r.path.includes('.bucket-bridge-probe-'));
    expect(probes.map((r) => r.method)).toEqual(['PUT', 'DELETE']); // the PUT's answer (its ETag) confirms the probe
    expect(probes[0]!.path).toMatch(new RegExp(`^/${LOCKED}/probed/\\.bucket-bridge-probe-`));
    expect(await listObjects(stack.store(LOCKED), '')).toEqual([]);
  });

  it('a destination that takes writes but refuses deletes: the check passes with a warning naming the probe left behind', async () => {
    proxy.failWith({ match: (r) => r.method === 'DELETE' && r.path.startsWith(`/${LOCKED}/kept/`), status: 403, code: 'AccessDenied', message: 'Access Denied', count: 100 });
    // The key check after the destination check stops the run: only the destination check is under test.
    const result = await run({ dest: `s3://${LOCKED}/kept/`, workspace: 'someone-else', env: { AWS_ENDPOINT_URL_S3: proxy.url } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('error: --workspace:');
    const left = await listObjects(stack.store(LOCKED), 'kept/');
    expect(left.map((o) => o.key)).toEqual([expect.stringMatching(/^kept\/\.bucket-bridge-probe-[0-9a-f]{12}$/)]);
    const warning = result.stderr.split('\n').find((l) => l.includes('probe object could not be removed'));
    expect(JSON.parse(warning!)).toMatchObject({ level: 'warn', bucket: LOCKED, key: left[0]!.key, reason: expect.stringContaining('AccessDenied') });
    await stack.store(LOCKED).delete(left[0]!.key);
  });

  it('a workspace the key does not belong to: exit 2 naming --workspace and the key\'s workspace', async () => {
    const result = await run({ workspace: 'someone-else' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`error: --workspace: expected the workspace the API key belongs to ("${SANDBOX_WORKSPACE}"), got "someone-else"`);
    expect(stack.roboflow.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET / 200']);
    await expectNothingSubmitted();
    expect(await listObjects(stack.store(MEDIA), 'results/')).toEqual([]);
  });

  it('a key Roboflow refuses: exit 2 naming ROBOFLOW_API_KEY, the key itself never printed', async () => {
    const wrongKey = 'wrong-key-0123456789abcdef';
    const result = await run({ env: { ROBOFLOW_API_KEY: wrongKey } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: ROBOFLOW_API_KEY: expected an API key Roboflow accepts \(it answered HTTP 401\)$/m);
    expect(result.stderr).not.toContain(wrongKey);
    expect(stack.roboflow.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET / 401']);
    await expectNothingSubmitted();
  });

  it('a 503 from GET / is retried, not reported as bad input', async () => {
    stack.roboflow.setFaults({ failures: [{ pathIncludes: '/', method: 'GET', status: 503, count: 2 }] });
    const result = await run({ workspace: 'someone-else' });
    // The third attempt got the real answer: the workspace check still catches the wrong workspace.
    expect(stack.roboflow.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET / 503', 'GET / 503', 'GET / 200']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('error: --workspace:');
  });

  it('Roboflow unavailable throughout the check: exit 1 (not bad input), nothing submitted', async () => {
    stack.roboflow.setFaults({ failures: [{ pathIncludes: '/', method: 'GET', status: 503, count: 100 }] });
    const result = await run();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^error: preflight: checking access to roboflow failed: Roboflow GET \/ failed after \d+ attempts: HTTP 503/m);
    expect(stack.roboflow.requests.length).toBeGreaterThan(1);
    await expectNothingSubmitted();
  });
});
