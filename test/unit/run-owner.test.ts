import { describe, expect, it } from 'vitest';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { OwnerFiles } from '../../shared/state/owner-files';
import { HEARTBEAT_STALE_MS, ownerState, type RunOwner } from '../../shared/state/run-owner';
import { specFor, tempDir } from '../support/domain';

const NOW = Date.parse('2026-12-04T12:00:00.000Z');
const owner = (over: Partial<RunOwner> = {}): RunOwner => ({
  pid: 4242,
  host: 'here',
  command: 'run',
  startedAt: '2026-12-04T11:00:00.000Z',
  heartbeatAt: new Date(NOW - 5_000).toISOString(),
  settings: {},
  ...over,
});
const probe = (alive: boolean) => ({ now: NOW, host: 'here', isAlive: () => alive });

describe('ownerState: is anybody still driving the run?', () => {
  it('a live process with a fresh heartbeat is running', () => {
    expect(ownerState(owner(), probe(true))).toEqual({ state: 'running' });
  });

  it('a process that recorded its end has ended, with its failure when it failed', () => {
    const ended = owner({ endedAt: '2026-12-04T11:59:00.000Z', failure: 'PutObject s3://b/k: AccessDenied (403)' });
    expect(ownerState(ended, probe(true))).toEqual({ state: 'ended', reason: 'PutObject s3://b/k: AccessDenied (403)', at: '2026-12-04T11:59:00.000Z' });
  });

  it('a dead pid on this host is gone at once, even with a fresh heartbeat (SIGKILL)', () => {
    expect(ownerState(owner(), probe(false))).toMatchObject({ state: 'gone', reason: 'the run process (pid 4242) ended without finishing it (killed?)' });
  });

  it('a stale heartbeat is gone even if the pid exists (reused pid, or another host)', () => {
    const stale = owner({ heartbeatAt: new Date(NOW - HEARTBEAT_STALE_MS - 1_000).toISOString() });
    expect(ownerState(stale, probe(true))).toMatchObject({ state: 'gone' });
    // Another host's pid cannot be probed from here: only the heartbeat counts.
    expect(ownerState(owner({ host: 'elsewhere' }), probe(false))).toEqual({ state: 'running' });
    expect(ownerState({ ...stale, host: 'elsewhere' }, probe(false))).toMatchObject({ state: 'gone', reason: 'the run process (pid 4242 on elsewhere) last reported 121 s ago' });
  });
});

describe('local state for resume', () => {
  it('keeps owner records per run and reads none for runs from before', async () => {
    const owners = new OwnerFiles(await tempDir('bb-owners-'));
    expect(await owners.get('r1')).toBeUndefined();
    await owners.put('r1', owner({ settings: { chunkSize: 8, storage: { source: { requesterPays: true }, dest: {}, gcs: {} } } }));
    expect(await owners.get('r1')).toMatchObject({ pid: 4242, settings: { chunkSize: 8, storage: { source: { requesterPays: true } } } });
    await expect(owners.put('../r1', owner())).rejects.toThrow(/invalid run id/);
  });

  it('lets one of two processes taking the same run at once have it', async () => {
    const owners = new OwnerFiles(await tempDir('bb-owners-'));
    const refuseTaken = (current: RunOwner | undefined) => (current ? new Error(`taken by ${current.pid}`) : undefined);
    const claims = await Promise.allSettled([owners.claim('r3', owner({ pid: 1 }), refuseTaken), owners.claim('r3', owner({ pid: 2 }), refuseTaken)]);
    expect(claims.filter((c) => c.status === 'fulfilled')).toHaveLength(1);
    const refused = claims.find((c) => c.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(/taken by [12]|being taken on by another process/);
    expect([1, 2]).toContain((await owners.get('r3'))?.pid);
  });

  it('drops the name mappings past the checkpoint, keeping the ones before it', async () => {
    const state = new FileStateStore(await tempDir('bb-names-'));
    await state.createRun(newRunRecord('r2', specFor('s3://bucket/in/', 's3://bucket/out/')));
    const names = Array.from({ length: 7 }, (_, i) => ({ name: `n${i}`, key: `k${i}` }));
    await state.appendNames('r2', names);
    await state.keepFirstNames('r2', 7);
    await state.keepFirstNames('r2', 4);
    const kept = [];
    for await (const n of state.names('r2')) kept.push(n);
    expect(kept).toEqual(names.slice(0, 4));
    expect(await state.runIds()).toEqual(['r2']);
  });
});
