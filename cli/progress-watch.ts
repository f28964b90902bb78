import type { RunProgress } from '../shared/run/run-progress';

export interface ProgressWatch {
  /** Stops looking; a look under way is not waited for (its answer is dropped). */
  stop(): void;
}

/**
 * Looks at a run every `everyMs` (the first look at once) and hands each look on. One look at a
 * time; a look that fails is skipped (progress is for people and never ends a run).
 */
export function watchProgress(look: () => Promise<RunProgress | undefined>, onProgress: (progress: RunProgress) => void, everyMs: number): ProgressWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    void look()
      .then((progress) => {
        if (progress && !stopped) onProgress(progress);
      })
      .catch(() => {})
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(tick, everyMs);
        timer.unref();
      });
  };
  tick();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
