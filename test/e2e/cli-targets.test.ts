import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtendEmulator, type RunningExtendEmulator } from '../../sandbox/extend-emulator';
import { startLlamaCloudEmulator, type RunningLlamaEmulator } from '../../sandbox/llamacloud-emulator';
import { freePort } from '../../sandbox/local-stack';
import { localS3Env, startLocalS3, type LocalS3Server } from '../../sandbox/s3-server';
import { createS3Client } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';

const SECRET = 'p'.repeat(43);

describe('bucket-bridge run --target extend | llamacloud', () => {
  let s3: LocalS3Server;
  let extend: RunningExtendEmulator;
  let llama: RunningLlamaEmulator;
  let extendPort: number;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['papers'] });
    const store = new S3Store(createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials }), 'papers');
    for (const key of ['in/a.pdf', 'in/b b.pdf', 'in/c+c.docx']) await store.write(key, `%PDF-1.7 ${key}`);
    await store.write('in/photo.raw', 'skip me');
    extendPort = await freePort();
    extend = await startExtendEmulator({ apiKey: 'ek', runDelayMs: 10, webhookUrl: `http://127.0.0.1:${extendPort}/webhooks/${SECRET}`, signingSecret: 'wss_test' });
    llama = await startLlamaCloudEmulator({ apiKey: 'lk', jobDelayMs: 10 });
  });
  afterAll(async () => {
    await extend.close();
    await llama.close();
    await s3.close();
  });

  const env = () => ({
    ...localS3Env(s3),
    EXTEND_API_KEY: 'ek',
    EXTEND_API_URL: extend.url,
    EXTEND_WEBHOOK_SIGNING_SECRET: 'wss_test',
    LLAMA_CLOUD_API_KEY: 'lk',
    LLAMA_CLOUD_BASE_URL: llama.url,
    BUCKET_BRIDGE_WEBHOOK_SECRET: SECRET,
  });
  const common = async (dest: string) => ['--source', 's3://papers/in/', '--dest', `s3://papers/${dest}/`, '--timeout', '60', '--state-dir', await tempDir('bb-targets-'), '--quiet'];

  it('runs Extend through its signed webhooks', async () => {
    const result = await runCli(
      ['run', '--target', 'extend', '--extend-processor', 'ex_emulated', ...(await common('extend-out')), '--webhook-url', `http://127.0.0.1:${extendPort}`, '--webhook-listen', `127.0.0.1:${extendPort}`],
      env(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({
      status: 'completed',
      media: 'documents',
      listed: 4,
      submitted: 3,
      skipped: { 'not-media': 1 },
      exported: { files: 3 },
      target: { name: 'extend', processor: { kind: 'extract', id: 'ex_emulated' } },
    });
    expect(result.stderr).not.toMatch(/X-Amz-Signature|wss_test/);
  });

  it('runs LlamaCloud by polling', async () => {
    const result = await runCli(
      ['run', '--target', 'llamacloud', '--llamacloud-configuration', 'cfg-PARSE_AGENTIC', ...(await common('llama-out')), '--poll-interval', '0.05'],
      env(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', submitted: 3, exported: { files: 3 }, target: { name: 'llamacloud', jobType: 'parse_v2' } });
    expect(llama.uploadedBytes()).toBeGreaterThan(0);
  });

  it.each([
    [['--target', 'extend'], {}, /--extend-processor: expected a value/],
    [['--target', 'llamacloud'], {}, /--llamacloud-configuration: expected a value/],
    [['--target', 'extend', '--extend-processor', 'ex_1', '--media', 'images'], {}, /--media: expected documents/],
    [['--target', 'extend', '--extend-processor', 'ex_1'], { EXTEND_API_KEY: '' }, /EXTEND_API_KEY: expected your Extend API key/],
    [['--target', 'llamacloud', '--llamacloud-configuration', 'cfg-1'], { LLAMA_CLOUD_API_KEY: '' }, /LLAMA_CLOUD_API_KEY: expected your LlamaCloud API key/],
    [['--target', 'nope'], {}, /--target: expected roboflow, extend or llamacloud/],
  ])('rejects bad configuration %j naming the field, writing nothing', async (flags, envOverride, message) => {
    const stateDir = join(await tempDir('bb-targets-bad-'), 'state');
    const result = await runCli(['run', '--source', 's3://papers/in/', '--dest', 's3://papers/never/', ...flags, '--state-dir', stateDir], { ...env(), ...envOverride });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(stateDir)).toBe(false);
  });
});
