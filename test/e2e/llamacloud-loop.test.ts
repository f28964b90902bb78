import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlamaCloudEmulator, type RunningLlamaEmulator } from '../../sandbox/llamacloud-emulator';
import { freePort } from '../../sandbox/local-stack';
import { startLocalS3, type LocalS3Server } from '../../sandbox/s3-server';
import { silentLogger } from '../../shared/log';
import { referenceName } from '../../shared/pipeline/name';
import { noProgress } from '../../shared/progress';
import type { BridgeDeps } from '../../shared/run/deps';
import { waitByPolling, waitForWebhooks } from '../../shared/run/poll';
import { startRun } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { createS3Client } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { LlamaCloudClient } from '../../shared/targets/llamacloud/client';
import { LlamaCloudTarget } from '../../shared/targets/llamacloud/target';
import { webhookPath } from '../../shared/webhook/receive';
import { startReceiver } from '../support/receiver';
import { specFor, tempDir } from '../support/domain';
import { listObjects } from '../support/s3';
import { advanceOnWebhooks } from '../../shared/run/follow-up';
import { readChunks } from '../../shared/state/run-chunks';

const DOCS = ['docs/report one.pdf', 'docs/plus+sign.txt', 'docs/sub/big.pdf', 'docs/sub/broken.pdf'];

describe('the loop with LlamaCloud as the target', () => {
  let s3: LocalS3Server;
  let store: S3Store;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['docs'] });
    store = new S3Store(createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials }), 'docs');
    for (const key of DOCS) await store.write(key, key.includes('big') ? Buffer.alloc(3 * 1024 * 1024, 65) : `text of ${key}\f second page\n`);
  });
  afterAll(() => s3.close());

  async function depsFor(emu: RunningLlamaEmulator, webhook?: { url: string; signingSecret: string }): Promise<BridgeDeps> {
    const client = new LlamaCloudClient({ apiKey: 'llx-test', apiUrl: emu.url, retry: { baseDelayMs: 5, maxDelayMs: 50 } });
    return {
      source: store,
      dest: store,
      state: new FileStateStore(await tempDir('bb-llama-')),
      target: new LlamaCloudTarget(client, { job: { type: 'parse_v2', configurationId: 'cfg-PARSE_AGENTIC' }, webhook, uploadConcurrency: 2 }),
      log: silentLogger,
      progress: noProgress,
      chunkSize: 3,
    };
  }

  async function expectResults(deps: BridgeDeps, emu: RunningLlamaEmulator, runId: string, dest: string) {
    const run = (await deps.state.getRun(runId))!;
    expect(run.phase).toBe('failed'); // one file's own job fails inside a COMPLETED batch
    expect(run.error).toBe('1 result file(s) could not be copied');
    expect((await readChunks(deps.state, runId)).map((c) => c.targetRef)).toEqual([expect.stringMatching(/^bat-/), expect.stringMatching(/^bat-/)]);
    for (const key of DOCS.slice(0, 3)) {
      const markdown = await text(await store.read(`${dest}/${runId}/results/${referenceName(key)}.md`));
      expect(markdown.length).toBeGreaterThan(0);
    }
    const failed = (await text(await store.read(`${dest}/${runId}/failed.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
    expect(failed).toEqual([expect.objectContaining({ stage: 'export', name: `results/${referenceName('docs/sub/broken.pdf')}.md`, reason: expect.stringMatching(/parse job FAILED/) })]);
    expect(emu.uploadedBytes()).toBeGreaterThan(3 * 1024 * 1024);
    expect(emu.maxConcurrentUploads()).toBeLessThanOrEqual(2);
    expect((await listObjects(store, `${dest}/${runId}/results/`)).length).toBe(3);
  }

  it('uploads every object by streaming, runs a batch per chunk and copies each file\'s result (polling)', async () => {
    // Throttled uploads and batch creation: each upload stream is reopened for its retry.
    const emu = await startLlamaCloudEmulator({
      apiKey: 'llx-test',
      jobDelayMs: 10,
      faults: {
        failFilesNamed: /broken/,
        failures: [
          { pathIncludes: '/files/upload', method: 'POST', status: 503, count: 2 },
          { pathIncludes: '/api/v2/batches', method: 'POST', status: 429, count: 1, retryAfterSeconds: 0 },
        ],
      },
    });
    try {
      const deps = await depsFor(emu);
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-polled/', { media: 'documents' }));
      await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      await expectResults(deps, emu, run.runId, 'out-polled');
      expect(emu.requests.filter((r) => r.status === 429 || r.status === 503)).toHaveLength(3);
    } finally {
      await emu.close();
    }
  });

  it('exports when the signed batch webhooks say every batch is done', async () => {
    const port = await freePort();
    const secret = 'l'.repeat(43);
    const emu = await startLlamaCloudEmulator({ apiKey: 'llx-test', jobDelayMs: 10, faults: { failFilesNamed: /broken/, duplicateDeliveries: true } });
    const deps = await depsFor(emu, { url: `http://127.0.0.1:${port}${webhookPath(secret)}`, signingSecret: 'lc-signing-secret' });
    const server = await startReceiver(deps, secret, port);
    try {
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-hooked/', { media: 'documents' }));
      // Every batch has reported before the run is advanced (submission slower than the batches).
      const reported = () => new Set(emu.webhookDeliveries.filter((d) => d.status === 200 && String(d.body.event_type).startsWith('batch.')).map((d) => d.body.data.id)).size;
      for (let i = 0; i < 500 && reported() < 2; i++) await sleep(10);
      expect(reported()).toBe(2);
      expect(await advanceOnWebhooks(deps, run.runId)).toEqual({ state: 'started' });
      await waitForWebhooks(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      await server.idle();
      await expectResults(deps, emu, run.runId, 'out-hooked');
      // The bridge subscribes to batch outcomes only, sent as JSON objects.
      const signed = emu.webhookDeliveries.filter((d) => d.body.event_type === 'batch.success');
      expect(emu.webhookDeliveries.every((d) => ['batch.success', 'batch.error', 'batch.cancelled'].includes(d.body.event_type))).toBe(true);
      expect(signed.length).toBeGreaterThanOrEqual(2);
      expect(signed.every((d) => d.status === 200)).toBe(true);
    } finally {
      await server.close();
      await emu.close();
    }
  });
});
