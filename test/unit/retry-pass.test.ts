import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { claimRetryPass, RETRY_PASS_LEASE_MS } from '../../shared/pipeline/resubmit';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { StateStore } from '../../shared/state/port';
import type { RunRecord } from '../../shared/state/run-record';
import type { BatchTarget } from '../../shared/targets/port';
import { specFor, tempDir } from '../support/domain';

const target = { maxPerChunk: () => 1000 } as unknown as BatchTarget;

async function exportingRun(changes: Partial<RunRecord> = {}) {
  const state = new FileStateStore(await tempDir('bb-retry-pass-'));
  const run = { ...newRunRecord('r1', specFor('s3://docs/in/', 's3://docs/out/', { media: 'documents' })), phase: 'exporting' as const, ...changes };
  await state.createRun(run);
  return { state, run, deps: (s: StateStore = state, chunkSize?: number) => ({ state: s, target, log: silentLogger, progress: () => {}, dest: undefined as never, chunkSize }) };
}

describe('claiming a retry pass', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');

  it('grants the pass once, with the chunk size of the first claim, until its lease lapses', async () => {
    const { state, run, deps } = await exportingRun();
    const first = await claimRetryPass(deps(state, 2), run, now);
    expect(first).toMatchObject({ chunkSize: 2, claimedUntil: new Date(now + RETRY_PASS_LEASE_MS).toISOString() });
    expect(await claimRetryPass(deps(state, 500), run, now + RETRY_PASS_LEASE_MS - 1)).toBeUndefined();
    const takeover = await claimRetryPass(deps(state, 500), run, now + RETRY_PASS_LEASE_MS + 1);
    expect(takeover).toMatchObject({ chunkSize: 2 });
    expect(takeover!.owner).not.toBe(first!.owner);
  });

  it('finds its own claim when the write went through but its answer was lost (the update runs again)', async () => {
    const { state, run, deps } = await exportingRun();
    // A conditional write retried after a lost answer: the change is applied, then run again on its own result.
    const replaying = new Proxy(state, {
      get: (t, prop) =>
        prop === 'updateRun'
          ? (runId: string, change: (r: RunRecord) => RunRecord) => t.updateRun(runId, (r) => change(change(r)))
          : (Reflect.get(t, prop) as (...a: unknown[]) => unknown).bind(t),
    });
    const claim = await claimRetryPass(deps(replaying), run, now);
    expect(claim).toBeDefined();
    expect((await state.getRun('r1'))!.retryPass).toEqual(claim);
  });

  it('is refused for a run that ended or whose pass is done', async () => {
    for (const changes of [{ phase: 'failed' as const }, { phase: 'completed' as const }, { retried: true }]) {
      const { run, deps } = await exportingRun(changes);
      expect(await claimRetryPass(deps(), run, now), JSON.stringify(changes)).toBeUndefined();
    }
  });
});

describe('run nonces', () => {
  it('differ between runs and survive the state round trip', async () => {
    const spec = specFor('s3://docs/in/', 's3://docs/out/');
    const [a, b] = [newRunRecord('same-id', spec), newRunRecord('same-id', spec)];
    expect(a.nonce).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(a.nonce).not.toBe(b.nonce);
    const state = new FileStateStore(await tempDir('bb-nonce-'));
    await state.createRun(a);
    expect((await state.getRun('same-id'))!.nonce).toBe(a.nonce);
    expect((await state.updateRun('same-id', (r) => ({ ...r, listed: 1 }))).nonce).toBe(a.nonce);
  });
});
