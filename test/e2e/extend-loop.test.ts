import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtendEmulator, type RunningExtendEmulator } from '../../sandbox/extend-emulator';
import { freePort } from '../../sandbox/local-stack';
import { startLocalS3, type LocalS3Server } from '../../sandbox/s3-server';
import { silentLogger } from '../../shared/log';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from '../../shared/concurrency';
import { advance } from '../../shared/pipeline/chain';
import { RETRY_PASS_LEASE_MS } from '../../shared/pipeline/resubmit';
import { planExport, runExportTask, type ExportTask } from '../../shared/pipeline/export';
import { referenceName } from '../../shared/pipeline/name';
import { noProgress } from '../../shared/progress';
import type { BridgeDeps } from '../../shared/run/deps';
import { waitByPolling, waitForWebhooks } from '../../shared/run/poll';
import { startRun } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { StateStore } from '../../shared/state/port';
import { createS3Client } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { ExtendClient } from '../../shared/targets/extend/client';
import { ExtendTarget } from '../../shared/targets/extend/target';
import { webhookPath } from '../../shared/webhook/receive';
import { startReceiver } from '../support/receiver';
import { specFor, tempDir } from '../support/domain';
import { listObjects } from '../support/s3';
import { advanceOnWebhooks } from '../../shared/run/follow-up';
import { readChunks } from '../../shared/state/run-chunks';

const DOCS = ['docs/a/invoice 1.pdf', 'docs/a/invoice+2.pdf', 'docs/b/contract.docx', 'docs/b/notes.txt', 'docs/c/broken.pdf'];

describe('the loop with Extend as the target', () => {
  let s3: LocalS3Server;
  let store: S3Store;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['docs'] });
    store = new S3Store(createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials }), 'docs');
    for (const key of DOCS) await store.write(key, `%PDF-1.7 fake content of ${key}\n`);
    await store.write('docs/c/photo.raw', 'not a document');
  });
  afterAll(() => s3.close());

  async function depsFor(emu: RunningExtendEmulator): Promise<BridgeDeps> {
    const client = new ExtendClient({ apiKey: 'extend-key', apiUrl: emu.url, retry: { baseDelayMs: 5, maxDelayMs: 50 } });
    return {
      source: store,
      dest: store,
      state: new FileStateStore(await tempDir('bb-extend-')),
      target: new ExtendTarget(client, { kind: 'extract', id: 'ex_emulated' }, emu.signingSecret),
      log: silentLogger,
      progress: noProgress,
      // Two inputs per batch: the run spans three Extend batches.
      chunkSize: 2,
    };
  }

  async function expectResults(deps: BridgeDeps, runId: string, dest: string) {
    const run = (await deps.state.getRun(runId))!;
    expect(run.phase, run.error).toBe('failed'); // one input cannot be processed
    expect(run.error).toBe('1 result file(s) could not be copied');
    expect(run).toMatchObject({ listed: 6, submitted: 5, skipped: { 'not-media': 1 } });
    expect((await readChunks(deps.state, runId)).map((c) => c.targetRef)).toEqual([expect.stringMatching(/^bpr_/), expect.stringMatching(/^bpr_/), expect.stringMatching(/^bpr_/)]);
    const keys = (await listObjects(store, `${dest}/${runId}/results/`)).map((o) => o.key);
    expect(keys).toHaveLength(4);
    for (const key of DOCS.slice(0, 4)) {
      const result = JSON.parse(await text(await store.read(`${dest}/${runId}/results/${referenceName(key)}.json`)));
      expect(result).toMatchObject({ key, status: 'PROCESSED', output: expect.anything() });
    }
    const combined = (await text(await store.read(`${dest}/${runId}/results.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
    expect(combined.map((r) => r.key).sort()).toEqual(DOCS.slice(0, 4).sort());
    const failed = (await text(await store.read(`${dest}/${runId}/failed.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
    expect(failed).toEqual([expect.objectContaining({ stage: 'export', type: 'FAILED_TO_PROCESS_FILE', name: `results/${referenceName('docs/c/broken.pdf')}.json` })]);
    expect(JSON.stringify(failed)).not.toMatch(/X-Amz-Signature/);
  }

  it('runs by polling', async () => {
    // Throttled on submission and on listing: the client backs off and carries on.
    const emu = await startExtendEmulator({
      apiKey: 'extend-key',
      runDelayMs: 10,
      faults: {
        failUrlsMatching: /broken/,
        failures: [
          { pathIncludes: '/extract_runs/batch', method: 'POST', status: 429, count: 2, retryAfterSeconds: 0 },
          { pathIncludes: '/extract_runs', method: 'GET', status: 503, count: 2 },
        ],
      },
    });
    try {
      const deps = await depsFor(emu);
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-polled/', { media: 'documents' }));
      await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      await expectResults(deps, run.runId, 'out-polled');
      expect(emu.requests.filter((r) => r.status === 429 || r.status === 503)).toHaveLength(4);
      const batches = emu.requests.filter((r) => r.method === 'POST' && r.path === '/extract_runs/batch' && r.status === 200);
      expect(batches.map((b) => (b.body as { inputs: unknown[] }).inputs.length)).toEqual([2, 2, 1]);
      expect((batches[0]!.body as { inputs: Array<{ metadata: { key: string } }> }).inputs[0]!.metadata.key).toMatch(/^docs\//);
    } finally {
      await emu.close();
    }
  });

  /** Waits (bounded) until every batch of the run has finished at Extend. */
  async function untilBatchesDone(deps: BridgeDeps, runId: string, state = deps.state) {
    for (let i = 0; i < 400 && !(await deps.target.jobOutcome((await state.getRun(runId))!, await readChunks(state, runId))).terminal; i++) await sleep(20);
  }

  /** What the deployed export does with planned tasks: copy each file (here, in this process). */
  const copier = (deps: BridgeDeps, runId: string) => (tasks: ExportTask[]) =>
    mapLimit(tasks, 4, (task) => runExportTask(deps, runId, task)).then(() => undefined);

  /**
   * The source, except that the first URL signed for each of `expiring` is already expired when
   * Extend gets to it; `onResign` runs before every later signing of those keys (and may throw).
   */
  function expiringFirstUrls(expiring: string[], onResign: (key: string) => void = () => {}) {
    const signings = new Map<string, number>();
    const source = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'presignGet') {
          return async (key: string, options: { expiresInSeconds: number }) => {
            const n = signings.get(key) ?? 0;
            if (expiring.includes(key) && n > 0) onResign(key);
            signings.set(key, n + 1);
            const url = new URL(await target.presignGet(key, options));
            if (expiring.includes(key) && n === 0) url.searchParams.set('X-Amz-Date', '20200101T000000Z');
            return url.toString();
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { source, signings };
  }

  it('signs again and resubmits an input whose URL expired before Extend fetched it', async () => {
    const emu = await startExtendEmulator({ apiKey: 'extend-key', runDelayMs: 10 });
    try {
      const deps = await depsFor(emu);
      const late = 'docs/b/contract.docx';
      const { source, signings } = expiringFirstUrls([late]);
      deps.source = source;
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-resigned/', { media: 'documents' }));
      const done = await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      expect(done.phase, done.error).toBe('completed');
      expect(signings.get(late)).toBe(2);
      expect(done.retried).toBe(true);
      const chunks = await readChunks(deps.state, run.runId);
      expect(chunks.map((c) => c.retry ?? false)).toEqual([false, false, false, true]);
      expect(chunks[3]!.references).toBe(1);
      const result = JSON.parse(await text(await store.read(`out-resigned/${run.runId}/results/${referenceName(late)}.json`)));
      expect(result).toMatchObject({ key: late, status: 'PROCESSED' });
      expect(await text(await store.read(`out-resigned/${run.runId}/failed.jsonl`))).toBe('');
      expect(done.exported?.files).toBe(DOCS.length);
    } finally {
      await emu.close();
    }
  });

  it('splits many expired inputs into retry batches, and a retry pass cut off half-way is finished without resending', async () => {
    // Batches take 300 ms: the retry batch the redelivery submits is still running when it looks at the job.
    const emu = await startExtendEmulator({ apiKey: 'extend-key', runDelayMs: 300, faults: { failUrlsMatching: /broken/ } });
    try {
      const deps = await depsFor(emu);
      const expiring = DOCS.slice(0, 3);
      let resignings = 0;
      // The pass is cut off while signing its second retry batch (e.g. the function timed out).
      const { source, signings } = expiringFirstUrls(expiring, () => {
        if (++resignings === 3) throw new Error('signing cut off');
      });
      deps.source = source;
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-split/', { media: 'documents' }));
      // What the deployed export function does: plan once every batch is done; a throw means redelivery.
      expect(await advance(deps, run.runId, { awaitIngestEvents: true })).toEqual({ state: 'started' });
      const copy = copier(deps, run.runId);
      await untilBatchesDone(deps, run.runId);
      await expect(planExport(deps, run.runId, copy)).rejects.toThrow(/signing cut off/);
      const cut = (await deps.state.getRun(run.runId))!;
      expect(cut.retried).toBe(false);
      expect((await readChunks(deps.state, run.runId)).filter((c) => c.retry && c.status !== 'written').map((c) => c.references)).toEqual([2]);

      // The redelivered message finishes the pass (even where the chunk size is now configured
      // differently: the pass keeps the split it started with); the retry batches then run to the end.
      deps.chunkSize = undefined;
      expect(await planExport(deps, run.runId, copy)).toBe('pending');
      expect((await deps.state.getRun(run.runId))!).toMatchObject({ retried: true, phase: 'processing' });
      const done = await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      expect(done.phase, done.error).toBe('failed'); // broken.pdf cannot be processed
      expect((await readChunks(deps.state, run.runId)).map((c) => [c.index, c.retry ?? false, c.references])).toEqual([
        [0, false, 2], [1, false, 2], [2, false, 1], [3, true, 2], [4, true, 1],
      ]);
      for (const key of expiring) expect(signings.get(key), key).toBe(2);
      const batchesCreated = emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/batch') && r.status === 200);
      expect(batchesCreated).toHaveLength(5);
      for (const key of expiring) {
        const result = JSON.parse(await text(await store.read(`out-split/${run.runId}/results/${referenceName(key)}.json`)));
        expect(result).toMatchObject({ key, status: 'PROCESSED' });
      }
      const failed = (await text(await store.read(`out-split/${run.runId}/failed.jsonl`))).trim().split('\n').map((l) => JSON.parse(l));
      expect(failed.map((f) => f.name)).toEqual([`results/${referenceName('docs/c/broken.pdf')}.json`]);
    } finally {
      await emu.close();
    }
  });

  it('takes over a retry pass whose planner died after submitting it, and then exports', async () => {
    const emu = await startExtendEmulator({ apiKey: 'extend-key', runDelayMs: 10 });
    try {
      const deps = await depsFor(emu);
      const expiring = DOCS.slice(0, 3);
      deps.source = expiringFirstUrls(expiring).source;
      // The planner dies right after its last retry batch: neither its final write nor a release happens.
      const state = deps.state;
      let dead = true;
      deps.state = new Proxy(state, {
        get(target, prop, receiver) {
          if (prop === 'updateRun') {
            return (runId: string, change: Parameters<StateStore['updateRun']>[1]) =>
              state.updateRun(runId, (r) => {
                const next = change(r);
                const finishing = next.retried && !r.retried;
                const releasing = next.retryPass && r.retryPass && next.retryPass.claimedUntil !== r.retryPass.claimedUntil && next.retryPass.owner === r.retryPass.owner;
                if (dead && (finishing || releasing)) throw new Error('planner died');
                return next;
              });
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-takeover/', { media: 'documents' }));
      expect(await advance(deps, run.runId, { awaitIngestEvents: true })).toEqual({ state: 'started' });
      await untilBatchesDone(deps, run.runId, state);
      const copy = copier(deps, run.runId);
      await expect(planExport(deps, run.runId, copy)).rejects.toThrow(/planner died/);
      dead = false;
      const batches = () => emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/batch') && r.status === 200).length;
      expect(batches()).toBe(5);

      // The retry batches report while the claim still runs: those plans leave it to its holder.
      await untilBatchesDone(deps, run.runId, state);
      expect(await planExport(deps, run.runId, copy)).toBe('pending');
      expect((await state.getRun(run.runId))!).toMatchObject({ phase: 'exporting', retried: false });

      // The lease runs out (15 minutes; here its end is moved to the past), then the dead planner's
      // message comes back: it finishes the pass and exports.
      const held = (await state.getRun(run.runId))!.retryPass!;
      expect(Date.parse(held.claimedUntil) - Date.now()).toBeGreaterThan(RETRY_PASS_LEASE_MS - 60_000);
      await state.updateRun(run.runId, (r) => ({ ...r, retryPass: { ...held, claimedUntil: new Date(Date.now() - 1000).toISOString() } }));
      const result = await planExport(deps, run.runId, copy);
      expect(result, (await state.getRun(run.runId))!.error).toBe('completed');
      expect(batches()).toBe(5);
      const done = (await state.getRun(run.runId))!;
      expect(done).toMatchObject({ phase: 'completed', retried: true, exported: { files: DOCS.length } });
      expect(done.retryPass).toBeUndefined();
    } finally {
      await emu.close();
    }
  });

  it('lets one of two planners running at once re-submit the expired inputs', async () => {
    const emu = await startExtendEmulator({ apiKey: 'extend-key', runDelayMs: 10 });
    try {
      const deps = await depsFor(emu);
      const expiring = DOCS.slice(0, 3);
      const { source, signings } = expiringFirstUrls(expiring);
      deps.source = source;
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-race/', { media: 'documents' }));
      expect(await advance(deps, run.runId, { awaitIngestEvents: true })).toEqual({ state: 'started' });
      await untilBatchesDone(deps, run.runId);
      // Both planners copy the same files; the local S3 server (unlike S3) breaks on two writes of
      // one key at once, so copies take turns: the race under test is the retry pass.
      let turn = Promise.resolve();
      const copyNow = copier(deps, run.runId);
      const copy = (tasks: ExportTask[]) => (turn = turn.then(() => copyNow(tasks)));
      // Two batches' outcome notifications planned at the same moment.
      // The one that completes the pass plans again: 'completed' if the retry batches were that quick.
      const results = await Promise.all([planExport(deps, run.runId, copy), planExport(deps, run.runId, copy)]);
      expect(results).toContain('pending');
      for (const r of results) expect(['pending', 'completed']).toContain(r);
      const batches = () => emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/batch') && r.status === 200).length;
      expect(batches()).toBe(5); // three batches, then the three expired inputs in two retry batches, once
      for (const key of expiring) expect(signings.get(key), key).toBe(2);

      const done = await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      expect(done.phase, done.error).toBe('completed');
      expect(batches()).toBe(5);
      expect(done.exported?.files).toBe(DOCS.length);
    } finally {
      await emu.close();
    }
  });

  it('runs through signed webhooks, exporting once every batch has finished', async () => {
    const port = await freePort();
    const secret = 'h'.repeat(43);
    const emu = await startExtendEmulator({
      apiKey: 'extend-key',
      runDelayMs: 10,
      webhookUrl: `http://127.0.0.1:${port}${webhookPath(secret)}`,
      faults: { failUrlsMatching: /broken/, duplicateDeliveries: true },
    });
    const deps = await depsFor(emu);
    const server = await startReceiver(deps, secret, port);
    try {
      const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/out-hooked/', { media: 'documents' }));
      // Every batch has reported (and its export follow-up found the run not yet processing)
      // before the run is advanced: the CLI's order when submission is slower than the batches.
      const reported = () => new Set(emu.webhookDeliveries.filter((d) => d.status === 200 && String(d.body.eventType).startsWith('batch_processor_run.')).map((d) => d.body.payload.id)).size;
      for (let i = 0; i < 500 && reported() < 3; i++) await sleep(10);
      expect(reported()).toBe(3);
      expect(await advanceOnWebhooks(deps, run.runId)).toEqual({ state: 'started' });
      await waitForWebhooks(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      await server.idle();
      await expectResults(deps, run.runId, 'out-hooked');
      const batchEvents = emu.webhookDeliveries.filter((d) => String(d.body.eventType).startsWith('batch_processor_run.'));
      expect(batchEvents.length).toBeGreaterThanOrEqual(6); // three batches, each delivered twice
      expect(batchEvents.every((d) => d.status === 200)).toBe(true);
    } finally {
      await server.close();
      await emu.close();
    }
  });
});
