/** Counting semaphore: at most `max` holders at once; waiting stops with ClosedError when `signal` aborts. */
import { ClosedError } from '../emulator-kit/task-scope';

export class Limiter {
  private active = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly max: number,
    private readonly signal: AbortSignal,
  ) {}

  async use<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.signal.aborted) return Promise.reject(new ClosedError());
    if (this.active < this.max) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(grant);
        reject(new ClosedError());
      };
      // The releasing holder hands its slot over, so `active` stays unchanged.
      const grant = () => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiters.add(grant);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    const next = this.waiters.values().next();
    if (next.done) {
      this.active -= 1;
      return;
    }
    this.waiters.delete(next.value);
    next.value();
  }
}
