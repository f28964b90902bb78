/**
 * A count (bytes, or slots) that waiters take from and give back, first come first served. A
 * request larger than the whole budget takes all of it.
 */
export class Budget {
  private left: number;
  private readonly waiting: { amount: number; go: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.left = capacity;
  }

  /** Resolves once `amount` is taken. */
  take(amount: number): Promise<void> {
    const wanted = Math.min(amount, this.capacity);
    if (this.waiting.length === 0 && wanted <= this.left) {
      this.left -= wanted;
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting.push({ amount: wanted, go }));
  }

  give(amount: number): void {
    this.left += Math.min(amount, this.capacity);
    while (this.waiting.length > 0 && this.waiting[0]!.amount <= this.left) {
      const next = this.waiting.shift()!;
      this.left -= next.amount;
      next.go();
    }
  }

  /** What is taken now. */
  get inUse(): number {
    return this.capacity - this.left;
  }
}

/** Bytes of small members held in memory at once by all copies of the process. */
export const BUFFERED_BYTES_BUDGET = 32 * 1024 * 1024;
/**
 * Large (or unsized) objects streamed at once by all copies of the process: each holds up to the
 * store's multipart window (8 MiB parts, 4 in flight) in memory.
 */
export const STREAMED_WRITES_IN_FLIGHT = 4;

/** What every copy's writes in one process draw from, so memory stays bounded however many copies run. */
export interface WriteBudget {
  bufferedBytes: Budget;
  streams: Budget;
}

export const PROCESS_WRITE_BUDGET: WriteBudget = {
  bufferedBytes: new Budget(BUFFERED_BYTES_BUDGET),
  streams: new Budget(STREAMED_WRITES_IN_FLIGHT),
};
