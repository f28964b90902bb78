import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtendEmulator } from '../../sandbox/extend-emulator';
import { startLocalS3, type LocalS3Server } from '../../sandbox/s3-server';
import { silentLogger } from '../../shared/log';
import { advance } from '../../shared/pipeline/chain';
import { noProgress } from '../../shared/progress';
import type { BridgeDeps } from '../../shared/run/deps';
import { readRunProgress } from '../../shared/run/run-progress';
import { startRun } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { createS3Client } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { ExtendClient } from '../../shared/targets/extend/client';
import { ExtendTarget } from '../../shared/targets/extend/target';
import type { BatchTarget } from '../../shared/targets/port';
import { specFor, tempDir } from '../support/domain';

describe('the progress of a run, read from the state and the target', () => {
  let s3: LocalS3Server;
  let store: S3Store;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['docs'] });
    store = new S3Store(createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials }), 'docs');
    for (const name of ['a.pdf', 'b.pdf', 'c.pdf', 'd.pdf', 'e.pdf']) await store.write(`in/${name}`, `%PDF-1.7 ${name}\n`);
  });
  afterAll(() => s3.close());

  it('Extend: the run\'s batches that ended, of all of them, while they process and once they are done', async () => {
    const emu = await startExtendEmulator({ apiKey: 'extend-key', runDelayMs: 400 });
    try {
      const client = new ExtendClient({ apiKey: 'extend-key', apiUrl: emu.url, retry: { baseDelayMs: 5, maxDelayMs: 50 } });
      const deps: BridgeDeps = {
        source: store,
        dest: store,
        state: new FileStateStore(await tempDir('bb-job-progress-')),
        target: new ExtendTarget(client, { kind: 'extract', id: 'ex_emulated' }, emu.signingSecret),
        log: silentLogger,
        progress: noProgress,
        chunkSize: 2,
      };
      const { runId } = await startRun(deps, specFor('s3://docs/in/', 's3://docs/out/', { media: 'documents' }));
      await advance(deps, runId, { awaitIngestEvents: false, settled: true });
      const processing = await readRunProgress(deps.state, deps.target, (await deps.state.getRun(runId))!);
      expect(processing).toMatchObject({ phase: 'processing', listed: 5, submitted: 5, job: { stage: 'batches', unit: 'batches', total: 3 } });
      expect(processing.job!.done).toBeLessThan(3);
      expect(processing.targetError).toBeUndefined();

      let done = processing;
      for (let i = 0; i < 100 && done.job!.done < 3; i++) {
        await sleep(50);
        done = await readRunProgress(deps.state, deps.target, (await deps.state.getRun(runId))!);
      }
      expect(done.job).toMatchObject({ done: 3, total: 3, fraction: 1, etaSeconds: 0 });
    } finally {
      await emu.close();
    }
  });

  it('a target that cannot be asked, or does not answer in time, leaves its part out and says why, without throwing', async () => {
    const state = new FileStateStore(await tempDir('bb-job-progress-'));
    const spec = specFor('s3://docs/in/', 's3://docs/out/');
    const now = new Date().toISOString();
    const run = { runId: 'r1', batchId: 'bb-r1', jobId: 'bb-1', spec, phase: 'processing' as const, listed: 4, skipped: {}, submitted: 4, chunks: [], checkpoint: { nextChunk: 1 }, retried: false, submissionComplete: true, jobStarted: true, timings: {}, createdAt: now, updatedAt: now };
    const target = { jobProgress: () => Promise.reject(new Error('Roboflow GET job: 503')) } as unknown as BatchTarget;
    expect(await readRunProgress(state, target, run as never)).toEqual({ phase: 'processing', listed: 4, submitted: 4, targetError: 'Roboflow GET job: 503' });
    const silent = { jobProgress: () => new Promise(() => {}) } as unknown as BatchTarget;
    expect(await readRunProgress(state, silent, run as never, { targetTimeoutMs: 50 })).toEqual({ phase: 'processing', listed: 4, submitted: 4, targetError: 'no answer within 0.05 s' });
  });
});
