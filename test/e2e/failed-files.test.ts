import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { advance } from '../../shared/pipeline/chain';
import { referenceName } from '../../shared/pipeline/name';
import type { BridgeDeps } from '../../shared/run/deps';
import { waitByPolling, waitForWebhooks } from '../../shared/run/poll';
import { startRun } from '../../shared/run/start-run';
import type { ObjectStore } from '../../shared/storage/port';
import { webhookPath } from '../../shared/webhook/receive';
import { startReceiver } from '../support/receiver';
import { specFor, stackDeps } from '../support/domain';

/** A source whose signed URL for one key points at an object that is gone (deleted after listing). */
function withVanishedObject(store: ObjectStore, vanished: string): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'presignGet') {
        return (key: string, options: { expiresInSeconds: number }) => target.presignGet(key === vanished ? `${key}.gone` : key, options);
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('files that fail to download during ingest', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['partial'], emulator: { ingestDelayMs: 10, jobStageDelayMs: 20 } });
    seeded = await seedDemoBucket(stack.store('partial'), 'incoming/', { withOversize: false });
  });
  afterAll(() => stack.close());

  async function readFailedJsonl(deps: BridgeDeps, runId: string, dest: string) {
    const body = await text(await deps.dest.read(`${dest}/${runId}/failed.jsonl`));
    return body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  it('are reported with their key and reason through webhooks, and the rest is processed', async () => {
    const vanished = seeded.images[5]!;
    const secret = 's'.repeat(43);
    const port = await freePort();
    const deps = await stackDeps(stack, 'partial', {}, `http://127.0.0.1:${port}${webhookPath(secret)}`);
    deps.source = withVanishedObject(deps.source, vanished);
    const server = await startReceiver(deps, secret, port);
    try {
      const spec = specFor('s3://partial/incoming/', 's3://partial/hooked/');
      const run = await startRun(deps, spec);
      await advance(deps, run.runId, { awaitIngestEvents: true });
      const done = await waitForWebhooks(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      expect(done.phase, done.error).toBe('completed');
      expect(done.ingested).toBe(seeded.images.length - 1);
      const failed = await readFailedJsonl(deps, run.runId, 'hooked');
      expect(failed).toEqual([
        { name: referenceName(vanished), key: vanished, stage: 'ingest', type: 'file-download-failed', reason: expect.stringMatching(/404/) },
      ]);
      expect(JSON.stringify(failed)).not.toMatch(/X-Amz-/);
    } finally {
      await server.close();
    }
  });

  it('are found by reconciling the staged batch when polling', async () => {
    const vanished = seeded.images[9]!;
    const deps = await stackDeps(stack, 'partial');
    deps.source = withVanishedObject(deps.source, vanished);
    const run = await startRun(deps, specFor('s3://partial/incoming/', 's3://partial/polled/'));
    const done = await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000, settlePolls: 3 });
    expect(done.phase, done.error).toBe('completed');
    expect(done.ingested).toBe(seeded.images.length - 1);
    const failed = await readFailedJsonl(deps, run.runId, 'polled');
    expect(failed).toEqual([{ name: referenceName(vanished), key: vanished, stage: 'ingest', type: 'not-ingested', reason: expect.any(String) }]);
    const summary = JSON.parse(await text(await deps.dest.read(`polled/${run.runId}/summary.json`)));
    expect(summary.failed).toEqual({ total: 1, byStage: { ingest: 1 }, byType: { 'not-ingested': 1 } });
  });
});
