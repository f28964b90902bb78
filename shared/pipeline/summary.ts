import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { formatLocation } from '../location';
import { listingCounts } from './listing-counts';
import type { StateStore } from '../state/port';
import { readChunks } from '../state/run-chunks';
import type { ExportedPart, RunRecord } from '../state/run-record';
import type { ObjectStore } from '../storage/port';

export const RunSummary = z.object({
  runId: z.string(),
  /** `interrupted`: not ended, and the process that drove it is gone (local status only; see resume). */
  status: z.enum(['completed', 'failed', 'in-progress', 'interrupted']),
  error: z.string().optional(),
  interruption: z.object({ reason: z.string(), at: z.string() }).optional(),
  source: z.string(),
  destination: z.string(),
  media: z.string(),
  /** The target and its settings, plus the bridge's batch and job ids. */
  target: z.object({ name: z.string(), batchId: z.string(), jobId: z.string() }).catchall(z.unknown()),
  /** How the objects reached the target (Roboflow: signed references or uploads) and why. */
  ingest: z.object({ mode: z.enum(['references', 'upload']), reason: z.string() }).optional(),
  listed: z.number().int(),
  skipped: z.record(z.string(), z.number().int()),
  submitted: z.number().int(),
  /** A run listed in partitions (deployed fan-out): how many there are and how many were submitted whole. */
  partitions: z.object({ total: z.number().int(), done: z.number().int() }).optional(),
  ingested: z.number().int().optional(),
  failed: z.object({ total: z.number().int(), byStage: z.record(z.string(), z.number().int()), byType: z.record(z.string(), z.number().int()) }),
  jobState: z.string().optional(),
  exported: z.object({ files: z.number().int(), bytes: z.number().int(), parts: z.record(z.string(), z.object({ files: z.number(), bytes: z.number() })) }),
  chunks: z.array(z.object({ ingestId: z.string(), references: z.number().int(), status: z.string(), duplicated: z.boolean().optional() })),
  /** The job stage the results were copied from (Roboflow). */
  resultsStage: z.string().optional(),
  timings: z.record(z.string(), z.string()),
  durationSeconds: z.number().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export async function buildSummary(state: StateStore, run: RunRecord): Promise<RunSummary> {
  const byStage: Record<string, number> = {};
  const byType: Record<string, number> = {};
  let total = 0;
  for await (const f of state.failures(run.runId)) {
    total++;
    byStage[f.stage] = (byStage[f.stage] ?? 0) + 1;
    byType[f.type] = (byType[f.type] ?? 0) + 1;
  }
  const chunks = await readChunks(state, run.runId);
  // Before a partitioned run's join (or when it failed before it), its partitions' counts.
  const { listed, skipped, submitted, partitions } = await listingCounts(state, run);
  const finished = run.timings.finishedAt;
  return RunSummary.parse({
    runId: run.runId,
    status: run.phase === 'completed' ? 'completed' : run.phase === 'failed' ? 'failed' : 'in-progress',
    error: run.error,
    source: formatLocation(run.spec.source, run.spec.source.prefix),
    destination: formatLocation(run.spec.dest, `${run.spec.dest.prefix}${run.runId}/`),
    media: run.spec.media,
    target: { ...run.spec.target, batchId: run.batchId, jobId: run.jobId },
    ingest: run.ingest,
    listed,
    skipped,
    submitted,
    partitions,
    ingested: run.ingested,
    failed: { total, byStage, byType },
    jobState: run.jobState,
    exported: run.exported ? { ...run.exported, parts: await exportedParts(state, run.runId) } : { files: 0, bytes: 0, parts: {} },
    chunks: chunks.map((c) => ({ ingestId: c.ingestId, references: c.references, status: c.status, duplicated: c.duplicated })),
    resultsStage: run.resultsStage,
    timings: { createdAt: run.createdAt, ...run.timings },
    durationSeconds: finished ? (Date.parse(finished) - Date.parse(run.createdAt)) / 1000 : undefined,
  });
}

/** Files and bytes copied per result part, summed from the export task outcomes. */
async function exportedParts(state: StateStore, runId: string): Promise<Record<string, ExportedPart>> {
  const parts: Record<string, ExportedPart> = {};
  for await (const task of state.exportTaskResults(runId)) {
    const part = (parts[task.part] ??= { files: 0, bytes: 0 });
    part.files += task.files;
    part.bytes += task.bytes;
  }
  return parts;
}

/**
 * Writes the run's report into its destination folder: `failed.jsonl` and `names.jsonl` (reference
 * name -> object key, for reading results named after references), streamed from state, then
 * `summary.json` for the given record. Callers write the report of the final record before storing
 * its terminal phase, so a finished run always has its summary.
 */
export async function writeSummary(dest: ObjectStore, state: StateStore, run: RunRecord): Promise<RunSummary> {
  const folder = `${run.spec.dest.prefix}${run.runId}/`;
  const summary = await buildSummary(state, run);
  await writeJsonl(dest, `${folder}failed.jsonl`, state.failures(run.runId));
  await writeJsonl(dest, `${folder}names.jsonl`, state.names(run.runId));
  await dest.write(`${folder}summary.json`, JSON.stringify(summary, null, 2) + '\n', { contentType: 'application/json' });
  return summary;
}

/** Streams records into a JSONL object, one line each, never holding them all. */
export async function writeJsonl(dest: ObjectStore, key: string, records: AsyncIterable<unknown>): Promise<void> {
  const stream = new PassThrough();
  const upload = dest.write(key, stream, { contentType: 'application/x-ndjson' });
  upload.catch(() => undefined);
  try {
    for await (const record of records) {
      if (!stream.write(JSON.stringify(record) + '\n')) await once(stream, 'drain');
    }
    stream.end();
  } catch (err) {
    stream.destroy(err as Error);
  }
  await upload;
}
