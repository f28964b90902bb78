import type { JobStage } from './api-schemas';

/** The stage that packs results into archives, when a job has it (Roboflow: "usually"). */
export const EXPORT_STAGE = 'export';

/**
 * Where a finished job's results are: the `export` stage when it produced output batches,
 * otherwise the last stage that did (by start time when every such stage gives one, else as
 * listed). Undefined when no stage produced any.
 */
export function resultsStage(stages: readonly JobStage[]): JobStage | undefined {
  const withOutput = stages.filter((s) => s.outputBatches.length > 0);
  const exportStage = withOutput.find((s) => s.processingStageName === EXPORT_STAGE);
  if (exportStage) return exportStage;
  const started = (s: JobStage) => (s.startTimestamp ? Date.parse(s.startTimestamp) : NaN);
  const ordered = withOutput.every((s) => !Number.isNaN(started(s))) ? [...withOutput].sort((a, b) => started(a) - started(b)) : withOutput;
  return ordered.at(-1);
}

export function stageFailed(stage: JobStage): boolean {
  return stage.statusType.toLowerCase().includes('error');
}
