/** JSON views of batches and runs as the API and webhooks return them. */
import { stableId } from './ids';
import type { BatchState, FileRecord, RunState } from './store';

export interface ViewSettings {
  /** Base URL of the emulator (dashboard links point at it and answer 404). */
  baseUrl(): string;
  /** When the emulated processors were "created". */
  startedAt: string;
}

/** BatchRun as in SDK 1.16: no processor type and no per-status counts. */
export function batchView(batch: BatchState): Record<string, unknown> {
  return { object: 'batch_run', id: batch.id, status: batch.status, runCount: batch.runIds.length, createdAt: batch.createdAt };
}

function fileView(file: FileRecord | null): Record<string, unknown> | null {
  if (!file) return null;
  return {
    object: 'file',
    id: file.id,
    name: file.name,
    type: file.type,
    parentFileId: null,
    metadata: { pageCount: file.pageCount },
    createdAt: file.createdAt,
    updatedAt: file.createdAt,
  };
}

/** What list endpoints return: everything but `output`. */
export function runSummary(run: RunState, settings: ViewSettings): Record<string, unknown> {
  const { kind, processor } = run;
  const processed = run.status === 'PROCESSED';
  return {
    object: kind.runObject,
    id: run.id,
    [kind.processorField]: {
      object: kind.processorField,
      id: processor.id,
      name: `Emulated ${kind.processorField} ${processor.id}`,
      createdAt: settings.startedAt,
      updatedAt: settings.startedAt,
    },
    [kind.versionField]: {
      object: `${kind.processorField}_version`,
      id: stableId(kind.versionIdPrefix, `${processor.id}@${run.version}`),
      version: run.version,
      [`${kind.processorField}Id`]: processor.id,
      createdAt: settings.startedAt,
    },
    status: run.status,
    failureReason: run.failureReason,
    failureMessage: run.failureMessage,
    metadata: run.metadata,
    reviewed: false,
    edited: false,
    file: fileView(run.file),
    files: null,
    parseRunId: null,
    dashboardUrl: `${settings.baseUrl()}/dashboard/${kind.runsPath}/${run.id}`,
    usage: processed && run.file ? { credits: run.file.pageCount } : null,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}

/** What `GET /{type}_runs/{id}` and per-run webhooks carry: the summary plus outputs. */
export function runView(run: RunState, settings: ViewSettings): Record<string, unknown> {
  const summary = runSummary(run, settings);
  const usage = summary.usage as { credits: number } | null;
  return {
    ...summary,
    output: run.output ?? null,
    initialOutput: run.output ?? null,
    reviewedOutput: null,
    usage: usage ? { ...usage, totalCredits: usage.credits } : null,
  };
}
