import { hostname } from 'node:os';
import { errorMessage } from '../shared/errors';
import type { Logger } from '../shared/log';
import type { OwnerFiles } from '../shared/state/owner-files';
import { HEARTBEAT_INTERVAL_MS, ownerState, type LocalRunSettings, type OwnerProbe, type RunOwner } from '../shared/state/run-owner';

/** A process with this pid exists here (EPERM: it does, it is just someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function localProbe(): OwnerProbe {
  return { now: Date.now(), host: hostname(), isAlive: processAlive };
}

/** Another live process drives the run: a second one would submit and export alongside it. */
export class RunOwnedElsewhereError extends Error {
  constructor(runId: string, owner: RunOwner) {
    super(`run ${runId} is being driven by the ${owner.command} process ${owner.pid} on ${owner.host} (last heartbeat ${owner.heartbeatAt}); wait for it to end or stop it first`);
    this.name = 'RunOwnedElsewhereError';
  }
}

export interface Ownership {
  /** Records that this process ended: with the reason when it failed. The first call counts. */
  release(failure?: unknown): Promise<void>;
}

/**
 * Makes this process the run's owner in the state folder and keeps a heartbeat until released, so
 * `status` can tell a run that is being driven from one whose process failed or was killed.
 */
export async function takeRun(
  owners: OwnerFiles,
  runId: string,
  command: RunOwner['command'],
  settings: LocalRunSettings,
  log: Logger,
): Promise<Ownership> {
  const now = new Date().toISOString();
  let owner: RunOwner = { pid: process.pid, host: hostname(), command, startedAt: now, heartbeatAt: now, settings };
  await owners.claim(runId, owner, (current) =>
    current && current.pid !== process.pid && ownerState(current, localProbe()).state === 'running' ? new RunOwnedElsewhereError(runId, current) : undefined,
  );

  let writing = Promise.resolve();
  const write = (next: RunOwner) => {
    owner = next;
    writing = writing.then(() => owners.put(runId, next)).catch((err) => log.warn('run owner not recorded', { runId, error: errorMessage(err) }));
    return writing;
  };
  const heartbeat = setInterval(() => void write({ ...owner, heartbeatAt: new Date().toISOString() }), HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();
  let released = false;
  return {
    release: async (failure) => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      const at = new Date().toISOString();
      await write({ ...owner, heartbeatAt: at, endedAt: at, ...(failure === undefined ? {} : { failure: errorMessage(failure) }) });
    },
  };
}
