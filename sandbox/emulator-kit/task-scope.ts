/**
 * Owns every timer and background task of one emulator instance so that close() can stop them all.
 * Background work awaits only `sleep()` and waits or fetches bound to `signal`, so aborting the scope
 * makes it finish promptly.
 */
export class ClosedError extends Error {
  constructor() {
    super('emulator closed');
    this.name = 'ClosedError';
  }
}

export class TaskScope {
  private readonly controller = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly tasks = new Set<Promise<void>>();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Resolves after `ms`, or rejects with ClosedError when the scope closes first. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError());
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        reject(new ClosedError());
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      this.timers.add(timer);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Signal that aborts on close or after `timeoutMs`, whichever comes first. */
  timeoutSignal(timeoutMs: number): AbortSignal {
    return AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]);
  }

  /** Runs `work` in the background; errors after close are expected and dropped, others go to `onError`. */
  run(work: () => Promise<void>, onError: (err: unknown) => void = () => {}): void {
    if (this.closed) return;
    const task = (async () => {
      try {
        await work();
      } catch (err) {
        if (!this.closed && !(err instanceof ClosedError)) onError(err);
      }
    })();
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** Aborts everything and waits (bounded) for background tasks to settle. */
  async close(graceMs = 2000): Promise<void> {
    this.controller.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.tasks.size === 0) return;
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.tasks]),
      new Promise<void>((resolve) => {
        giveUp = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(giveUp);
  }
}
