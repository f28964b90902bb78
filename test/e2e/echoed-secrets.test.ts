import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtendEmulator, type RunningExtendEmulator } from '../../sandbox/extend-emulator';
import { startLlamaCloudEmulator, type RunningLlamaEmulator } from '../../sandbox/llamacloud-emulator';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { localS3Env } from '../../sandbox/s3-server';
import { REMOTE_TEXT_MAX_CHARS } from '../../shared/scrub-secrets';
import type { ObjectStore } from '../../shared/storage/port';
import { runCli, type CliResult } from '../support/cli';
import { tempDir } from '../support/domain';

// Remote services that quote the request in their error messages: what the product logs, stores
// and writes must hold none of the secrets the request carried, and only a bounded piece of it.

const BUCKET = 'echoes';
const token = () => randomBytes(32).toString('base64url');

interface Artifacts {
  summary: { runId: string; status: string; error?: string };
  /** Where → content: stdout, stderr, every file of the state folder, summary.json and failed.jsonl in the bucket. */
  found: Record<string, string>;
}

/** Everything one run leaves for people to read. */
async function artifacts(result: CliResult, stateDir: string, store: ObjectStore, dest: string): Promise<Artifacts> {
  const found: Record<string, string> = { stdout: result.stdout, stderr: result.stderr };
  for (const entry of await readdir(stateDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found[`state:${join(entry.parentPath, entry.name)}`] = await readFile(join(entry.parentPath, entry.name), 'utf8');
  }
  const [runId] = await readdir(join(stateDir, 'runs'));
  expect(Object.keys(found)).toContain(`state:${join(stateDir, 'runs', runId!, 'run.json')}`);
  for (const name of ['summary.json', 'failed.jsonl']) found[`bucket:${name}`] = await text(await store.read(`${dest}/${runId}/${name}`));
  return { summary: JSON.parse(found['bucket:summary.json']!), found };
}

/** The secret parts of a signed URL: its signature and its credential (access key id, date, scope). */
function signatureParts(signedUrl: string): string[] {
  const url = new URL(signedUrl);
  const signature = url.searchParams.get('X-Amz-Signature');
  expect(signature).toMatch(/^[0-9a-f]{64}$/);
  return [signature!, url.searchParams.get('X-Amz-Credential')!];
}

/** Not a secret, nor any 12 characters of one (a message cut in the middle of a secret leaks its start). */
function expectNoneOf(found: Record<string, string>, secrets: string[]) {
  for (const [where, content] of Object.entries(found)) {
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(16);
      for (const form of [secret, encodeURIComponent(secret)]) {
        for (let i = 0; i + 12 <= form.length; i++) {
          expect(content.includes(form.slice(i, i + 12)), `${where} holds ${form.slice(i, i + 12)} of a secret`).toBe(false);
        }
      }
    }
    // Whatever survived of a signed query names its parameter only.
    expect(content).not.toMatch(/X-Amz-Signature(=|%3D|\\u003d)(?!\[redacted\])/i);
  }
}

describe('Roboflow answers 400 quoting the ingest request', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 10, jobStageDelayMs: 10 } });
    for (const name of ['a.jpg', 'b.png', 'c.jpg']) await stack.store(BUCKET).write(`in/${name}`, fakeImage(name));
  });
  afterAll(() => stack.close());

  it('leaves neither the path token, the API key nor the signed URL in the summary, run state or stderr', async () => {
    const pathToken = token();
    const stateDir = await tempDir('bb-echo-state-');
    const port = await freePort();
    stack.roboflow.setFaults({ failures: [{ pathIncludes: '/bulk-upload/image-references', method: 'POST', status: 400, count: 1, echoRequest: true }] });
    const result = await runCli(
      [
        'run', '--source', `s3://${BUCKET}/in/`, '--dest', `s3://${BUCKET}/out/`,
        '--workspace', SANDBOX_WORKSPACE, '--workflow', SANDBOX_WORKFLOW,
        '--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`,
        '--timeout', '30', '--state-dir', stateDir,
      ],
      { ...stack.env, BUCKET_BRIDGE_WEBHOOK_SECRET: pathToken },
    );
    expect(result.code, result.stderr).toBe(1);
    const ingest = stack.roboflow.requests.find((r) => r.path.endsWith('/bulk-upload/image-references') && r.status === 400);
    const body = ingest!.body as { notificationsURL: string; imageReferencesURL: string };
    expect(body.notificationsURL).toContain(pathToken);

    const { summary, found } = await artifacts(result, stateDir, stack.store(BUCKET), 'out');
    expect(summary.status).toBe('failed');
    // Still says what went wrong, and which part of the request the service quoted.
    expect(summary.error).toMatch(/Roboflow POST \S+\/bulk-upload\/image-references failed: HTTP 400: invalid request body/);
    expect(summary.error).toContain('notificationsURL');
    expect(summary.error!.length).toBeLessThan(REMOTE_TEXT_MAX_CHARS + 200);
    expectNoneOf(found, [pathToken, stack.apiKey, ...signatureParts(body.imageReferencesURL)]);
  });
});

describe('Extend and LlamaCloud failure messages carrying signed URLs and secrets', () => {
  let stack: LocalStack;
  let extend: RunningExtendEmulator;
  let llama: RunningLlamaEmulator;
  const extendKey = `ek_${token()}`;
  const llamaKey = `llx-${token()}`;
  const extendSigningSecret = `wss_${token()}`;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET] });
    for (const key of ['docs/good.pdf', 'docs/broken.pdf']) await stack.store(BUCKET).write(key, `%PDF-1.7 ${key}`);
    extend = await startExtendEmulator({ apiKey: extendKey, runDelayMs: 5, signingSecret: extendSigningSecret });
    llama = await startLlamaCloudEmulator({ apiKey: llamaKey, jobDelayMs: 5 });
  });
  afterAll(async () => {
    await extend.close();
    await llama.close();
    await stack.close();
  });

  const env = () => ({
    ...localS3Env(stack.s3),
    EXTEND_API_KEY: extendKey,
    EXTEND_API_URL: extend.url,
    EXTEND_WEBHOOK_SIGNING_SECRET: extendSigningSecret,
    LLAMA_CLOUD_API_KEY: llamaKey,
    LLAMA_CLOUD_BASE_URL: llama.url,
  });
  const common = (dest: string, stateDir: string) => ['--source', `s3://${BUCKET}/docs/`, '--dest', `s3://${BUCKET}/${dest}/`, '--timeout', '30', '--state-dir', stateDir];
  const failedLines = (found: Artifacts['found']) => found['bucket:failed.jsonl']!.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

  it('Extend: a per-file failure message quoting the signed input URL and secrets reaches failed.jsonl scrubbed and bounded', async () => {
    const stateDir = await tempDir('bb-echo-extend-');
    extend.setFaults({
      failUrlsMatching: /broken/,
      failureMessage: (url) => `Could not process the file at ${url} (key ${extendKey}, ${extendSigningSecret}) ${'detail '.repeat(3000)}`,
    });
    const result = await runCli(['run', '--target', 'extend', '--extend-processor', 'ex_emulated', ...common('extend-out', stateDir), '--poll-interval', '0.05'], env());
    expect(result.code, result.stderr).toBe(1);
    const inputs = extend.requests.flatMap((r) => ((r.body as { inputs?: Array<{ file: { url: string } }> })?.inputs ?? []));
    const brokenUrl = inputs.map((i) => i.file.url).find((u) => u.includes('broken'))!;
    const { found } = await artifacts(result, stateDir, stack.store(BUCKET), 'extend-out');
    const [failed] = failedLines(found);
    expect(failed).toMatchObject({ stage: 'export', type: 'FAILED_TO_PROCESS_FILE', reason: expect.stringMatching(/^Could not process the file at http/) });
    expect(failed.reason.length).toBeLessThanOrEqual(REMOTE_TEXT_MAX_CHARS);
    expectNoneOf(found, [extendKey, extendSigningSecret, ...signatureParts(brokenUrl)]);
  });

  it('LlamaCloud: a 400 quoting the batch request (webhook URL and signing secret) leaves neither in the run\'s report', async () => {
    const stateDir = await tempDir('bb-echo-llama-');
    const pathToken = token();
    const port = await freePort();
    llama.setFaults({ failures: [{ pathIncludes: '/api/v2/batches', method: 'POST', status: 400, count: 1, echoRequest: true }] });
    const result = await runCli(
      [
        'run', '--target', 'llamacloud', '--llamacloud-configuration', 'cfg-PARSE_AGENTIC', ...common('llama-out', stateDir),
        '--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`,
      ],
      { ...env(), BUCKET_BRIDGE_WEBHOOK_SECRET: pathToken },
    );
    expect(result.code, result.stderr).toBe(1);
    const create = llama.requests.find((r) => r.method === 'POST' && r.path === '/api/v2/batches' && r.status === 400)!;
    const [webhook] = (create.body as { webhook_configurations: Array<{ webhook_url: string; webhook_signing_secret: string }> }).webhook_configurations;
    expect(webhook!.webhook_url).toContain(pathToken);
    const { summary, found } = await artifacts(result, stateDir, stack.store(BUCKET), 'llama-out');
    expect(summary.error).toMatch(/LlamaCloud POST \/api\/v2\/batches failed: HTTP 400: invalid request body/);
    expectNoneOf(found, [pathToken, llamaKey, webhook!.webhook_signing_secret]);
  });

  it('LlamaCloud: a long per-file failure message quoting the API key is bounded and scrubbed in failed.jsonl', async () => {
    const stateDir = await tempDir('bb-echo-llama-file-');
    llama.setFaults({ failFilesNamed: /broken/, failureMessage: (name) => `Could not parse ${name} for ${llamaKey}: ${'x'.repeat(20_000)}` });
    const result = await runCli(['run', '--target', 'llamacloud', '--llamacloud-configuration', 'cfg-PARSE_AGENTIC', ...common('llama-file-out', stateDir), '--poll-interval', '0.05'], env());
    expect(result.code, result.stderr).toBe(1);
    const { found } = await artifacts(result, stateDir, stack.store(BUCKET), 'llama-file-out');
    const [failed] = failedLines(found);
    expect(failed.reason).toMatch(/parse job FAILED: Could not parse broken\.pdf for \[redacted\]: x+/);
    expect(failed.reason.length).toBeLessThan(REMOTE_TEXT_MAX_CHARS + 200);
    expectNoneOf(found, [llamaKey]);
  });
});
