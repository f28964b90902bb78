import { errorMessage } from '../shared/errors';
import type { Logger } from '../shared/log';
import { endRunFailed, failRun } from '../shared/pipeline/fail-run';
import type { StateStore } from '../shared/state/port';
import type { RunRecord } from '../shared/state/run-record';
import type { ObjectStore } from '../shared/storage/port';

/** An exception that escaped every handler while a run was being driven. */
export class UncaughtFailure extends Error {
  constructor(cause: unknown) {
    super(`internal error: ${errorMessage(cause)}`, { cause });
    this.name = 'UncaughtFailure';
  }
}

export interface ProcessGuard {
  /** Settles as `work` does, or rejects with an UncaughtFailure as soon as an exception escapes to the process. */
  during<T>(work: Promise<T>): Promise<T>;
  /** Gives the process its default handling back. */
  release(): void;
}

/**
 * Keeps a stray error from ending a run without its summary (Node's default ends the process).
 * A rejection nobody handles is logged and the run goes on: nothing the run awaits depends on a
 * promise nobody awaits. An uncaught exception left some callback half done, and what the run
 * awaits from it may never settle, so the run ends failed — with its summary — rather than hang
 * until its timeout or go on from a state no one checked.
 */
export function guardProcess(log: Logger): ProcessGuard {
  let fail: (failure: UncaughtFailure) => void = () => {};
  const fatal = new Promise<never>((_, reject) => (fail = reject));
  fatal.catch(() => {});
  const onRejection = (reason: unknown) => log.error('unhandled rejection (the run goes on)', { error: errorMessage(reason) });
  const onException = (err: unknown) => {
    log.error('uncaught exception (the run ends failed)', { error: errorMessage(err) });
    fail(new UncaughtFailure(err));
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    during: (work) => Promise.race([work, fatal]),
    release: () => {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/**
 * The run after an UncaughtFailure: ended failed with its summary in the destination (or, when
 * that cannot be written, in state only). Any other error, or a run not yet created, is rethrown.
 */
export async function endRunOnFailure(deps: { state: StateStore; dest: ObjectStore; log: Logger }, runId: string, err: unknown): Promise<RunRecord> {
  if (!(err instanceof UncaughtFailure) || !(await deps.state.getRun(runId))) throw err;
  try {
    await endRunFailed(deps, runId, err.message);
  } catch (writeErr) {
    deps.log.warn('summary not written to the destination', { runId, error: errorMessage(writeErr) });
    await failRun(deps.state, runId, err.message);
  }
  return (await deps.state.getRun(runId))!;
}
