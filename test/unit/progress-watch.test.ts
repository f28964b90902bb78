import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchProgress } from '../../cli/progress-watch';
import type { RunProgress } from '../../shared/run/run-progress';

const progress = (listed: number): RunProgress => ({ phase: 'discovering', listed, submitted: 0 });

describe('watching a run', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('looks at once, then every interval after the last look ended, skipping looks that fail', async () => {
    const seen: number[] = [];
    let n = 0;
    const watch = watchProgress(async () => (++n === 2 ? Promise.reject(new Error('state unreadable')) : progress(n)), (p) => seen.push(p.listed), 1000);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([1]);
    await vi.advanceTimersByTimeAsync(999);
    expect(n).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual([1, 3]);
    watch.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(n).toBe(3);
  });

  it('drops the answer of a look still under way when it is stopped', async () => {
    const seen: RunProgress[] = [];
    let answer: (p: RunProgress) => void = () => {};
    const watch = watchProgress(() => new Promise((resolve) => (answer = resolve)), (p) => seen.push(p), 1000);
    watch.stop();
    answer(progress(7));
    await vi.advanceTimersByTimeAsync(5000);
    expect(seen).toEqual([]);
  });
});
