/** Maps items with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Runs tasks handed to it in batches with at most `limit` in flight across batches: `add` waits
 * only while the pool is full, so the next batch is fetched while this one runs. The first failure
 * is thrown by the next `add` or by `drain`; tasks already running are still awaited.
 */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  /** Adders waiting for a free slot, woken one per task that ends. */
  private readonly waiting: Array<() => void> = [];
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(tasks: ReadonlyArray<() => Promise<unknown>>): Promise<void> {
    for (const task of tasks) {
      while (this.running.size >= this.limit) await new Promise<void>((wake) => this.waiting.push(wake));
      this.throwIfFailed();
      const running: Promise<void> = task().then(
        () => this.ended(running),
        (error: unknown) => {
          this.failure ??= { error };
          this.ended(running);
        },
      );
      this.running.add(running);
    }
  }

  /** Waits for every task; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    this.throwIfFailed();
  }

  private ended(task: Promise<void>) {
    this.running.delete(task);
    this.waiting.shift()?.();
  }

  private throwIfFailed() {
    if (this.failure) throw this.failure.error;
  }
}
