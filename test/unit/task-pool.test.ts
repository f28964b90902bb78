import { describe, expect, it } from 'vitest';
import { TaskPool } from '../../shared/concurrency';

/** A task that ends when told to, counting how many such tasks run at once. */
function gate(state: { running: number; most: number }) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const task = async () => {
    state.most = Math.max(state.most, ++state.running);
    await opened;
    state.running--;
  };
  return { task, open };
}

describe('TaskPool', () => {
  it('keeps at most `limit` tasks in flight across batches, starting the next one as each ends', async () => {
    const state = { running: 0, most: 0 };
    const gates = Array.from({ length: 10 }, () => gate(state));
    const pool = new TaskPool(3);
    const first = pool.add(gates.slice(0, 5).map((g) => g.task));
    const second = first.then(() => pool.add(gates.slice(5).map((g) => g.task)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.running).toBe(3);
    // Each task that ends lets exactly one more start, whichever batch it is in.
    for (let i = 0; i < 10; i++) {
      gates[i]!.open();
      await new Promise((resolve) => setImmediate(resolve));
      expect(state.running).toBe(Math.min(3, 10 - i - 1));
    }
    await second;
    await pool.drain();
    expect(state.most).toBe(3);
  });

  it('throws the first failure from the next add and from drain, after the tasks in flight end', async () => {
    const pool = new TaskPool(2);
    let ended = 0;
    await pool.add([
      () => Promise.reject(new Error('first')),
      () => new Promise<void>((resolve) => setTimeout(() => resolve(void ended++), 20)),
    ]);
    await expect(pool.add([() => Promise.resolve()])).rejects.toThrow('first');
    await expect(pool.drain()).rejects.toThrow('first');
    expect(ended).toBe(1);
  });
});
