/**
 * Progress counters the pipeline reports as it goes (the CLI draws them, Lambda ignores them):
 * objects listed and signed, files and bytes stored by the export.
 */
export type ProgressStage = 'listed' | 'signed' | 'exported-files' | 'exported-bytes';

export type ProgressListener = (stage: ProgressStage, increment: number) => void;

export const noProgress: ProgressListener = () => {};

/**
 * The job's progress as the target reports it: Roboflow's current stage and its tasks; for
 * targets that process a batch per chunk, the run's batches.
 */
export interface JobProgress {
  /** The stage running now (Roboflow: `processing`, `export`), or `batches`. */
  stage: string;
  /** What `done` and `total` count. */
  unit: 'tasks' | 'batches';
  done: number;
  total: number;
  /** The stage's own progress, 0 to 1 (the tasks' progress where the target reports it, else done / total). */
  fraction: number;
  /** When the stage started, by the target's clock (ISO 8601): the ETA is reckoned from it. */
  startedAt?: string;
  /** Where the stage is in the job's planned stages, e.g. 1 of 2. */
  stageNumber?: number;
  stages?: number;
}

/**
 * Seconds until the stage ends at the pace it has kept since it started: elapsed × (1 − p) / p.
 * Undefined before any progress or without a start time (a pace cannot be told yet).
 */
export function etaSeconds(job: Pick<JobProgress, 'fraction' | 'startedAt'>, nowMs: number): number | undefined {
  if (!job.startedAt || job.fraction <= 0) return undefined;
  if (job.fraction >= 1) return 0;
  const started = Date.parse(job.startedAt);
  if (Number.isNaN(started)) return undefined;
  const elapsed = Math.max(0, nowMs - started) / 1000;
  return Math.round((elapsed * (1 - job.fraction)) / job.fraction);
}
