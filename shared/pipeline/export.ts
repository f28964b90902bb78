import { mapLimit } from '../concurrency';
import { errorMessage, RemoteError } from '../errors';
import type { Logger } from '../log';
import type { ProgressListener } from '../progress';
import { KeyedLock } from '../run-lock';
import { DEFAULT_RETRY_POLICY, retryDelayMs, sleep } from '../http/retry-policy';
import type { StateStore } from '../state/port';
import type { FileFailure, RunRecord } from '../state/run-record';
import type { ObjectStore } from '../storage/port';
import type { BatchTarget, OutputFile } from '../targets/port';
import { isArchive, unpackArchive } from './archive';
import { openDownload } from './download';
import { endRun, endRunFailed } from './fail-run';
import { safeRelativePath } from './safe-path';

export interface ExportDeps {
  dest: ObjectStore;
  state: StateStore;
  target: BatchTarget;
  log: Logger;
  progress: ProgressListener;
  concurrency?: number;
  /** Attempts per result file (download + upload) before it counts as failed. */
  attempts?: number;
}

export type ExportResult = 'pending' | 'completed' | 'failed' | 'not-applicable';

/** Folder of a run's results in the destination: `<dest prefix><runId>/`. */
export function runFolder(run: RunRecord): string {
  return `${run.spec.dest.prefix}${run.runId}/`;
}

const locks = new KeyedLock();

/**
 * Once the job is terminal (confirmed through the API, never from the webhook alone), copies every
 * output file of the export stage into `<run folder>/<part>/<file>`, unpacking archives unless the
 * run keeps them, and finishes with summary.json and failed.jsonl.
 */
export function exportResults(deps: ExportDeps, runId: string): Promise<ExportResult> {
  return locks.run(runId, async () => {
    const run = await deps.state.getRun(runId);
    if (!run || (run.phase !== 'processing' && run.phase !== 'exporting')) return 'not-applicable';
    try {
      return await exportRun(deps, run);
    } catch (err) {
      await endRunFailed(deps, runId, `export failed: ${errorMessage(err)}`);
      return 'failed';
    }
  });
}

async function exportRun(deps: ExportDeps, run: RunRecord): Promise<ExportResult> {
  const outcome = await deps.target.jobOutcome(run.jobId);
  if (!outcome.terminal) return 'pending';
  if (outcome.failed) {
    await deps.state.updateRun(run.runId, (r) => ({ ...r, jobState: 'fail' }));
    await endRunFailed(deps, run.runId, `job ${run.jobId} failed: ${outcome.detail ?? 'no detail given'}`);
    return 'failed';
  }
  await deps.state.updateRun(run.runId, (r) => ({
    ...r,
    phase: 'exporting',
    jobState: 'success',
    timings: { ...r.timings, jobFinishedAt: r.timings.jobFinishedAt ?? new Date().toISOString() },
  }));

  const parts: Record<string, { files: number; bytes: number }> = {};
  const failures: FileFailure[] = [];
  for (const batchId of outcome.outputBatches) {
    for await (const page of deps.target.outputFiles(batchId)) {
      await mapLimit(page, deps.concurrency ?? 4, async (file) => {
        const part = file.partName ?? batchId;
        try {
          const copied = await withRetries(deps.attempts ?? 3, () => copyOutputFile(deps, run, file));
          const stats = (parts[part] ??= { files: 0, bytes: 0 });
          stats.files += copied.files;
          stats.bytes += copied.bytes;
        } catch (err) {
          deps.log.warn('result file not copied', { runId: run.runId, part, file: file.fileName, error: errorMessage(err) });
          failures.push({ name: `${part}/${file.fileName}`, stage: 'export', type: 'export-failed', reason: errorMessage(err) });
        }
      });
    }
  }
  await deps.state.recordFailures(run.runId, failures);
  const totals = Object.values(parts).reduce((t, p) => ({ files: t.files + p.files, bytes: t.bytes + p.bytes }), { files: 0, bytes: 0 });
  await deps.state.updateRun(run.runId, (r) => ({ ...r, exported: { ...totals, parts } }));
  if (failures.length > 0) {
    await endRun(deps, run.runId, 'failed', `${failures.length} result file(s) could not be copied`);
    return 'failed';
  }
  await endRun(deps, run.runId, 'completed');
  return 'completed';
}

async function copyOutputFile(deps: ExportDeps, run: RunRecord, file: OutputFile): Promise<{ files: number; bytes: number }> {
  const part = safeRelativePath(file.partName ?? '') ?? 'output';
  const fileName = safeRelativePath(file.fileName);
  if (!fileName) throw new Error(`unsafe result file name ${JSON.stringify(file.fileName)}`);
  const folder = `${runFolder(run)}${part}/`;
  const download = await openDownload(file.downloadUrl, `${part}/${fileName}`);

  if (isArchive(fileName) && !run.spec.keepArchives) {
    let bytes = 0;
    const members = await unpackArchive(fileName, download.body, async (member) => {
      const stored = await deps.dest.write(`${folder}${member.path}`, member.stream, { expectedBytes: member.size });
      bytes += stored.bytes;
      deps.progress('exported-files', 1);
      deps.progress('exported-bytes', stored.bytes);
    });
    return { files: members, bytes };
  }
  const stored = await deps.dest.write(`${folder}${fileName}`, download.body, { expectedBytes: download.length });
  deps.progress('exported-files', 1);
  deps.progress('exported-bytes', stored.bytes);
  return { files: 1, bytes: stored.bytes };
}

/** Retries a whole copy when the failure looks transient (network, 5xx, 429); unsafe archives are final. */
async function withRetries<T>(attempts: number, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const permanent = (err instanceof RemoteError && !err.retryable) || (err as Error).name === 'UnsafeArchiveError';
      if (permanent || attempt >= attempts) throw err;
      await sleep(retryDelayMs({ ...DEFAULT_RETRY_POLICY, baseDelayMs: 200 }, attempt));
    }
  }
}
