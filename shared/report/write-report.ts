import { listingCounts } from '../pipeline/listing-counts';
import type { RunSummary } from '../pipeline/summary';
import type { StateStore } from '../state/port';
import type { RunRecord } from '../state/run-record';
import type { ObjectStore } from '../storage/port';
import { groupFailures, skippedGroups } from './reason-groups';
import { renderReport } from './render-report';
import type { RunReport } from './report-model';
import { listResultFiles } from './result-files';

export const REPORT_FILE = 'report.html';
/** Written with every summary, so always linked. */
const RUN_FILES = ['summary.json', 'failed.jsonl', 'names.jsonl'];
/** Written by some runs only (joined results): linked when they are there. */
const OPTIONAL_FILES = ['results-by-key.jsonl', 'predictions-by-key.jsonl', 'predictions-by-key.csv', 'results.jsonl'];

/** Reads what the report shows from state, each stream once and bounded, and the run folder's optional files. */
export async function gatherReport(dest: ObjectStore, state: StateStore, run: RunRecord, summary: RunSummary): Promise<RunReport> {
  const folder = `${run.spec.dest.prefix}${run.runId}/`;
  const present = await Promise.all(OPTIONAL_FILES.map(async (name) => ((await dest.sizeOf(`${folder}${name}`)) !== undefined ? name : undefined)));
  return {
    summary,
    // The keys kept with the counts: a partitioned run's partitions' before their join.
    skipped: skippedGroups(summary.skipped, (await listingCounts(state, run)).skippedKeys),
    failed: await groupFailures(state.failures(run.runId)),
    results: await listResultFiles(state.exportTaskResults(run.runId)),
    files: [...RUN_FILES, ...present.filter((name): name is string => name !== undefined)],
    generatedAt: new Date().toISOString(),
  };
}

/** Writes `report.html` next to the run's `summary.json`. */
export async function writeReport(dest: ObjectStore, state: StateStore, run: RunRecord, summary: RunSummary): Promise<void> {
  const page = renderReport(await gatherReport(dest, state, run, summary));
  await dest.write(`${run.spec.dest.prefix}${run.runId}/${REPORT_FILE}`, page, { contentType: 'text/html; charset=utf-8' });
}
