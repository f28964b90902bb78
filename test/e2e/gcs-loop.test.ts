import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalGcs, type LocalStack } from '../../sandbox/local-stack';
import { verifyGcsV4Signature } from '../../sandbox/gcs-v4-verify';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { referenceName } from '../../shared/pipeline/name';
import { runCli } from '../support/cli';
import { listObjects } from '../support/s3';
import { isResultKey } from '../support/run-files';

const GCS_BUCKET = 'gcs-e2e-media';
const S3_BUCKET = 'gcs-e2e-results';
const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** A pass-through proxy in front of the S3 server that records what the SDK sends (headers included). */
async function recordingS3Proxy(target: string) {
  const upstream = new URL(target);
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('bucket-bridge run with a GCS source and an S3-compatible destination, end to end on loopback', () => {
  let stack: LocalStack;
  let gcs: LocalGcs;
  let seeded: SeededBucket;
  let proxy: Awaited<ReturnType<typeof recordingS3Proxy>>;
  let stateDir: string;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [S3_BUCKET], gcsBuckets: [GCS_BUCKET], emulator: { ingestDelayMs: 20, jobStageDelayMs: 30 } });
    gcs = stack.gcs!;
    seeded = await seedDemoBucket(gcs.store(GCS_BUCKET));
    proxy = await recordingS3Proxy(stack.s3.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await stack.close();
  });
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'bb-gcs-e2e-state-'));
    gcs.server.requests.length = 0;
    gcs.iam.resetStats();
    proxy.seen.length = 0;
  });

  /** The destination is configured the way an R2 user would: custom endpoint, region `auto`, path style. */
  const env = (extra: NodeJS.ProcessEnv = gcs.env): NodeJS.ProcessEnv => ({
    ...stack.env,
    ...extra,
    AWS_ENDPOINT_URL_S3: proxy.url,
    AWS_REGION: 'auto',
    BUCKET_BRIDGE_S3_FORCE_PATH_STYLE: 'true',
  });
  const args = (source: string, dest: string) => [
    'run',
    '--source', source,
    '--dest', dest,
    '--workspace', SANDBOX_WORKSPACE,
    '--workflow', SANDBOX_WORKFLOW,
    '--page-size', '7',
    '--timeout', '60',
    '--state-dir', stateDir,
    '--quiet',
  ];

  async function expectResultsInS3(prefix: string, runId: string, exportedFiles: number) {
    const keys = (await listObjects(stack.store(S3_BUCKET), `${prefix}/${runId}/`)).map((o) => o.key);
    expect(keys).toContain(`${prefix}/${runId}/summary.json`);
    const results = keys.filter(isResultKey);
    expect(results).toHaveLength(exportedFiles);
    for (const key of seeded.images) expect(results.some((r) => r.includes(referenceName(key)))).toBe(true);
    const names = (await text(await stack.store(S3_BUCKET).read(`${prefix}/${runId}/names.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
    expect(names).toEqual(expect.arrayContaining(seeded.images.map((key) => ({ name: referenceName(key), key }))));
  }

  /** Roboflow (the emulator) downloaded every image and the references file through verified signed URLs. */
  function expectSignedDownloadsServed(runId: string) {
    const signed = gcs.server.requests.filter((r) => r.kind === 'signed');
    expect(signed.filter((r) => r.status !== 200)).toEqual([]);
    const paths = new Set(signed.map((r) => decodeURIComponent(r.path)));
    for (const key of seeded.images) expect(paths.has(`/${GCS_BUCKET}/${key}`), key).toBe(true);
    expect(paths.has(`/${GCS_BUCKET}/bucket-bridge/manifests/${runId}/references-00000.jsonl`)).toBe(true);
  }

  it('runs the whole loop through webhooks, signing with a service-account key file', async () => {
    const port = await freePort();
    const result = await runCli(
      [...args(`gs://${GCS_BUCKET}/${seeded.prefix}`, `s3://${S3_BUCKET}/from-gcs/`), '--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`],
      env(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/X-Goog-Signature|PRIVATE KEY/);
    expect(result.stderr).not.toMatch(/signing credentials expire/); // key signatures last as long as the key
    const s = result.summary!;
    expect(s).toMatchObject({
      status: 'completed',
      source: `gs://${GCS_BUCKET}/${seeded.prefix}`,
      listed: seeded.images.length + seeded.notMedia.length + seeded.tooLarge.length,
      skipped: { 'not-media': 1, 'too-large': 1 },
      submitted: seeded.images.length,
      ingested: seeded.images.length,
      jobState: 'success',
      failed: { total: 0 },
    });
    await expectResultsInS3('from-gcs', s.runId, s.exported.files);
    expectSignedDownloadsServed(s.runId);

    // The references files live in the GCS source bucket; their URLs verify independently.
    const manifest = gcs.server.get(GCS_BUCKET, `bucket-bridge/manifests/${s.runId}/references-00000.jsonl`)!;
    const lines = manifest.data.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string; url: string });
    expect(lines).toHaveLength(seeded.images.length);
    for (const { url } of lines) {
      expect(url.startsWith(`${gcs.server.url}/${GCS_BUCKET}/`)).toBe(true);
      expect(verifyGcsV4Signature(url, gcs.account.publicKey)).toBe(true);
    }
    // Listing went page by page (7 per page) through the JSON API, after the preflight's one-object page.
    const listings = gcs.server.requests.filter((r) => r.kind === 'api' && r.path === `/storage/v1/b/${GCS_BUCKET}/o`);
    expect(listings.length).toBe(Math.ceil(s.listed / 7) + 1);

    // The S3-compatible destination saw region `auto`, path-style paths, and no flexible checksums.
    expect(proxy.seen.length).toBeGreaterThan(s.exported.files);
    for (const r of proxy.seen) {
      expect(String(r.headers.authorization)).toMatch(/Credential=S3RVER\/\d{8}\/auto\/s3\/aws4_request/);
      // Objects `/<bucket>/<key>`, listings (the run folder's, for results-by-key) `/<bucket>?list-type=2…`.
      expect(r.path).toMatch(new RegExp(`^/${S3_BUCKET}[/?]`));
      expect(Object.keys(r.headers).filter((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
      expect(r.headers['content-encoding'] ?? '').not.toContain('aws-chunked');
    }
  });

  it('runs the whole loop by polling, signing keylessly through IAM signBlob', async () => {
    const result = await runCli([...args(`gs://${GCS_BUCKET}/${seeded.prefix}`, `s3://${S3_BUCKET}/keyless/`), '--poll-interval', '0.05'], env(gcs.signBlobEnv));
    expect(result.code, result.stderr).toBe(0);
    // The default 24 h lifetime outlives what Google guarantees for signBlob signatures (12 h).
    expect(result.stderr).toMatch(/the signing credentials expire at .*before the signed URLs would/);
    const s = result.summary!;
    expect(s).toMatchObject({ status: 'completed', submitted: seeded.images.length, ingested: seeded.images.length, failed: { total: 0 } });
    // One signBlob call per image and one for the references file, all answered.
    expect(gcs.iam.calls.filter((c) => c.status === 200 && c.email === gcs.account.email)).toHaveLength(seeded.images.length + 1);
    expect(gcs.iam.maxInFlight()).toBeLessThanOrEqual(16);
    await expectResultsInS3('keyless', s.runId, s.exported.files);
    expectSignedDownloadsServed(s.runId);
  });

  it('copies results into a GCS destination (streamed uploads with size checks) from an S3 source', async () => {
    const fromS3 = await seedDemoBucket(stack.store(S3_BUCKET), 's3-incoming/', { withOversize: false });
    const result = await runCli([...args(`s3://${S3_BUCKET}/s3-incoming/`, `gs://${GCS_BUCKET}/from-s3/`), '--poll-interval', '0.05'], env());
    expect(result.code, result.stderr).toBe(0);
    const s = result.summary!;
    expect(s).toMatchObject({ status: 'completed', submitted: fromS3.images.length, destination: `gs://${GCS_BUCKET}/from-s3/${s.runId}/` });
    const names = gcs.server.names(GCS_BUCKET).filter((n) => n.startsWith(`from-s3/${s.runId}/`));
    expect(names).toContain(`from-s3/${s.runId}/summary.json`);
    expect(names.filter(isResultKey)).toHaveLength(s.exported.files);
    const stored = JSON.parse(gcs.server.get(GCS_BUCKET, `from-s3/${s.runId}/summary.json`)!.data.toString('utf8'));
    expect(stored).toMatchObject({ runId: s.runId, status: 'completed' });
    expect(gcs.server.requests.filter((r) => r.path.startsWith('/upload/')).length).toBeGreaterThanOrEqual(s.exported.files);
  });

  it.each([
    ['gs:// without GCS credentials', {}, [], /--gcs-key-file: expected GCS credentials for gs:\/\/ locations/],
    ['an S3 region on a gs:// source', undefined, ['--source-region', 'eu-west-1'], /--source-region: expected an s3:\/\/ --source/],
    ['a key file that does not exist', { BUCKET_BRIDGE_GCS_KEY_FILE: '/nonexistent/key.json' }, [], /BUCKET_BRIDGE_GCS_KEY_FILE: expected a readable key file/],
  ])('rejects %s with exit 2, writing nothing anywhere', async (_, gcsEnv, extra, message) => {
    const fresh = join(stateDir, 'must-not-exist');
    const roboflowBefore = stack.roboflow.requests.length;
    const argv = [...args(`gs://${GCS_BUCKET}/${seeded.prefix}`, `s3://${S3_BUCKET}/never/`), ...(extra as string[])];
    argv[argv.indexOf('--state-dir') + 1] = fresh;
    const result = await runCli(argv, env(gcsEnv as NodeJS.ProcessEnv | undefined));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(fresh)).toBe(false);
    expect(gcs.server.requests).toEqual([]);
    expect(stack.roboflow.requests.length).toBe(roboflowBefore);
    expect(await listObjects(stack.store(S3_BUCKET), 'never/')).toEqual([]);
  });
});

describe('npm run demo -- --source-store gcs', () => {
  it('runs the loop on the fake GCS and exits 0', async () => {
    const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'sandbox/demo.ts', '--source-store', 'gcs'], {
      cwd: REPO,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
      child.on('exit', (c) => (clearTimeout(timer), resolve(c)));
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/seeded gs:\/\/demo-gcs-media\/incoming\/: 32 images/);
    // The 32 images, the image the demo's emulator refuses at ingest, and the references file.
    expect(stderr).toMatch(/fake GCS served 34 signed downloads \(0 refused\)/);
    expect(stderr).toMatch(/run report \(s3:\/\/demo-media\/results\/[^/]+\/report\.html\) saved as file:\/\//);
    expect(stderr).toMatch(/finished with exit code 0/);
  }, 60_000);
});
