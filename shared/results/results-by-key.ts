import type { Logger } from '../log';
import type { StateStore } from '../state/port';
import type { FileFailure, NameMapping, RunRecord } from '../state/run-record';
import type { ObjectStore } from '../storage/port';
import { aggregatedFormat, csvField, csvRows, jsonlRows, type AggregatedFormat, type CsvRecord } from './aggregated-rows';
import { MIRROR_FOLDER, mirrorKey } from './mirror-key';
import { ObjectLines } from './object-lines';
import { SpillFolder } from './partitions';

export const RESULTS_BY_KEY_FILE = 'results-by-key.jsonl';
export const PREDICTIONS_BY_KEY_FILE: Record<AggregatedFormat, string> = { jsonl: 'predictions-by-key.jsonl', csv: 'predictions-by-key.csv' };

/** Reference names joined in memory at once (one partition of the join). */
export const NAMES_PER_PARTITION = 50_000;
/** Aggregated row bytes grouped in memory at once (mirror layout only). */
export const ROW_BYTES_PER_PARTITION = 16 * 1024 * 1024;
/** At most this many partitions (two sets of spill files are open at once). */
export const MAX_PARTITIONS = 256;
/** Mirror copies in flight at once. */
const MIRROR_COPIES_IN_FLIGHT = 16;

/** One line of results-by-key.jsonl. */
export type ResultsByKeyLine = { source_key: string; name: string } & (
  | { status: 'exported'; results: string[]; mirror?: string[] }
  | { status: 'failed'; stage: FileFailure['stage']; type: string; reason: string }
  | { status: 'no-result' }
);

export interface ResultsByKeyCounts {
  objects: number;
  exported: number;
  failed: number;
  noResult: number;
  predictionRows: number;
  partitions: number;
}

/** A result object found in the run folder: the reference name it is named after, its key relative to the folder. */
type Entry = { n: string; r: string };
/** An aggregated prediction row: its reference name, which aggregated file, its text and (CSV) fields. */
type Row = { n?: string; f: number; r: string; v?: string[] };
type AggregatedFile = { key: string; rel: string; format: AggregatedFormat; size: number; header?: CsvRecord };

export interface ResultsByKeyDeps {
  dest: ObjectStore;
  state: StateStore;
  log: Logger;
}

/**
 * Writes `results-by-key.jsonl` into the run folder: one line per submitted object (every name in
 * the run's name map) with its source key, reference name, status and where its results are; for
 * aggregated prediction files (Roboflow's CSV / JSONL), `predictions-by-key.jsonl|csv` with every
 * row and its `source_key`; and in the mirror layout a copy of each object's result under
 * `by-key/<source key>`.
 *
 * Memory stays bounded however many objects there are: the name map, the failures, the result
 * objects (one listing of the run folder) and the aggregated rows are spilled to local files by a
 * hash of the reference name, and joined one partition (about NAMES_PER_PARTITION names) at a time.
 * Lines therefore come in partition order, not listing order.
 */
export async function writeResultsByKey(deps: ResultsByKeyDeps, run: RunRecord): Promise<ResultsByKeyCounts> {
  const folder = `${run.spec.dest.prefix}${run.runId}/`;
  const mirror = run.spec.resultsLayout === 'mirror';
  const spill = await SpillFolder.create();
  try {
    const aggregated = await spillListing(deps, spill, run, folder);
    const aggregatedBytes = aggregated.reduce((sum, f) => sum + f.size, 0);
    const partitions = partitionCount(Math.max(run.listed, run.submitted), mirror ? aggregatedBytes : 0);
    await spillByName(deps, spill, run, aggregated, partitions);
    const counts = await join(deps, spill, run, folder, aggregated, partitions);
    deps.log.info('results joined to source keys', { runId: run.runId, ...counts });
    return counts;
  } finally {
    await spill.remove();
  }
}

/** Partitions needed to hold about NAMES_PER_PARTITION names (and ROW_BYTES_PER_PARTITION grouped rows) each. */
export function partitionCount(names: number, groupedRowBytes: number): number {
  const wanted = Math.max(Math.ceil(names / NAMES_PER_PARTITION), Math.ceil(groupedRowBytes / ROW_BYTES_PER_PARTITION), 1);
  return Math.min(wanted, MAX_PARTITIONS);
}

/**
 * Lists the run folder once: every object in a part folder is a result named after a reference
 * name (`<part>/…/<name>.<ext>`); aggregated prediction files are noted to be read by row. The run's
 * own files (at the top of the folder) and the mirror folder are not results.
 */
async function spillListing(deps: ResultsByKeyDeps, spill: SpillFolder, run: RunRecord, folder: string): Promise<AggregatedFile[]> {
  const listed = spill.single<Entry>('listed');
  const aggregated: AggregatedFile[] = [];
  try {
    for await (const page of deps.dest.list(folder)) {
      for (const o of page.objects) {
        const rel = o.key.slice(folder.length);
        if (!rel.includes('/') || rel.startsWith(MIRROR_FOLDER)) continue;
        const format = run.spec.target.name === 'roboflow' ? aggregatedFormat(rel) : undefined;
        if (format) aggregated.push({ key: o.key, rel, format, size: o.size });
        else await listed.add('', { n: stripExtension(rel.slice(rel.lastIndexOf('/') + 1)), r: rel });
      }
    }
  } finally {
    await listed.close();
  }
  return aggregated;
}

/** Spills results, aggregated rows, failures and the name map into partitions by reference name. */
async function spillByName(deps: ResultsByKeyDeps, spill: SpillFolder, run: RunRecord, aggregated: AggregatedFile[], partitions: number) {
  const entries = spill.partitioned<Entry>('entries', partitions);
  const rows = spill.partitioned<Row>('rows', partitions);
  try {
    for await (const e of spill.read<Entry>('listed', 0)) await entries.add(e.n, e);
    await spill.discard('listed', 1);
    for (const [f, file] of aggregated.entries()) {
      const body = await deps.dest.read(file.key);
      const read = file.format === 'csv' ? csvRows(body, (header) => (file.header = header)) : jsonlRows(body);
      for await (const row of read) {
        if (row.name !== undefined) await entries.add(row.name, { n: row.name, r: file.rel });
        await rows.add(row.name ?? '', { n: row.name, f, r: row.raw, v: row.fields });
      }
    }
  } finally {
    await Promise.all([entries.close(), rows.close()]);
  }
  const failures = spill.partitioned<FileFailure>('failures', partitions);
  const names = spill.partitioned<NameMapping>('names', partitions);
  try {
    for await (const f of deps.state.failures(run.runId)) {
      const name = failedName(f);
      await failures.add(name, { ...f, name });
    }
    for await (const m of deps.state.names(run.runId)) await names.add(m.name, m);
  } finally {
    await Promise.all([failures.close(), names.close()]);
  }
}

/** Joins each partition: a line per name, then the partition's prediction rows (and mirror copies). */
async function join(deps: ResultsByKeyDeps, spill: SpillFolder, run: RunRecord, folder: string, aggregated: AggregatedFile[], partitions: number) {
  const mirror = run.spec.resultsLayout === 'mirror';
  const counts: ResultsByKeyCounts = { objects: 0, exported: 0, failed: 0, noResult: 0, predictionRows: 0, partitions };
  const out = new ObjectLines(deps.dest, `${folder}${RESULTS_BY_KEY_FILE}`, 'application/x-ndjson');
  const predictions = predictionWriters(deps.dest, folder, aggregated);
  const copies = new InFlight(MIRROR_COPIES_IN_FLIGHT);
  try {
    for (let p = 0; p < partitions; p++) {
      const results = new Map<string, Set<string>>();
      for await (const e of spill.read<Entry>('entries', p)) {
        const set = results.get(e.n) ?? new Set<string>();
        set.add(e.r);
        results.set(e.n, set);
      }
      const failed = new Map<string, FileFailure>();
      for await (const f of spill.read<FileFailure>('failures', p)) if (!failed.has(f.name)) failed.set(f.name, f);
      const keys = new Map<string, string>();
      /** Names whose result files were mirrored, so their aggregated rows are not. */
      const mirroredFiles = new Set<string>();
      for await (const { name, key } of spill.read<NameMapping>('names', p)) {
        if (keys.has(name)) continue;
        keys.set(name, key);
        const line = lineFor(name, key, results.get(name), failed.get(name));
        if (line.status === 'exported' && mirror) {
          const files = line.results.filter((r) => !aggregatedFormat(r) || run.spec.target.name !== 'roboflow');
          const targets = new Map(files.map((r) => [mirrorKey(folder, key, extensionOf(r)), r]));
          for (const [to, from] of targets) await copies.add(() => copyObject(deps.dest, `${folder}${from}`, `${folder}${to}`));
          if (targets.size > 0) mirroredFiles.add(name);
          line.mirror = [...targets.keys()];
          if (line.mirror.length === 0) line.mirror = [mirrorKey(folder, key, '.json')];
        }
        counts.objects++;
        counts[line.status === 'no-result' ? 'noResult' : line.status]++;
        await out.line(JSON.stringify(line));
      }
      const grouped = new Map<string, unknown[]>();
      for await (const row of spill.read<Row>('rows', p)) {
        const key = row.n === undefined ? undefined : keys.get(row.n);
        counts.predictionRows++;
        await predictions.write(row, key, aggregated[row.f]!);
        if (mirror && key !== undefined && !mirroredFiles.has(row.n!)) {
          const rows = grouped.get(key) ?? [];
          rows.push(rowObject(row, aggregated[row.f]!));
          grouped.set(key, rows);
        }
      }
      for (const [key, rows] of grouped) {
        const body = JSON.stringify({ source_key: key, rows }, null, 2) + '\n';
        await copies.add(() => deps.dest.write(`${folder}${mirrorKey(folder, key, '.json')}`, body, { contentType: 'application/json' }));
      }
      await copies.drain();
    }
    await copies.drain();
    await Promise.all([out.close(), predictions.close()]);
    return counts;
  } catch (err) {
    out.abort(err as Error);
    predictions.abort(err as Error);
    throw err;
  }
}

function lineFor(name: string, key: string, results: Set<string> | undefined, failure: FileFailure | undefined): ResultsByKeyLine {
  if (results && results.size > 0) return { source_key: key, name, status: 'exported', results: [...results].sort() };
  if (failure) return { source_key: key, name, status: 'failed', stage: failure.stage, type: failure.type, reason: failure.reason };
  return { source_key: key, name, status: 'no-result' };
}

/**
 * The reference name a failure is about: ingest failures name the object; an export failure names
 * the result file (`<part>/<name>.<ext>` for Extend and LlamaCloud's per-object results).
 */
function failedName(f: FileFailure): string {
  if (f.stage !== 'export' || !f.name.includes('/')) return f.name;
  return stripExtension(f.name.slice(f.name.lastIndexOf('/') + 1));
}

function stripExtension(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

function extensionOf(path: string): string {
  const file = path.slice(path.lastIndexOf('/') + 1);
  const dot = file.lastIndexOf('.');
  return dot > 0 ? file.slice(dot) : '';
}

/** A prediction row as an object: the JSONL row, or the CSV row's fields under its file's header. */
function rowObject(row: Row, file: AggregatedFile): unknown {
  if (file.format === 'jsonl') return JSON.parse(row.r);
  const header = file.header?.fields ?? [];
  return Object.fromEntries((row.v ?? []).map((value, i) => [header[i] ?? `column_${i + 1}`, value]));
}

async function copyObject(dest: ObjectStore, from: string, to: string): Promise<void> {
  const body = await dest.read(from);
  await dest.write(to, body);
}

/**
 * predictions-by-key.jsonl (each row with `source_key` first) and predictions-by-key.csv (a
 * `source_key` column first, then the row as written; rows of a file with another header are
 * arranged under the first file's columns). Opened only for the formats the run has.
 */
function predictionWriters(dest: ObjectStore, folder: string, aggregated: AggregatedFile[]) {
  let jsonl: ObjectLines | undefined;
  let csv: { lines: ObjectLines; header: CsvRecord } | undefined;
  const open = {
    jsonl: () => (jsonl ??= new ObjectLines(dest, `${folder}${PREDICTIONS_BY_KEY_FILE.jsonl}`, 'application/x-ndjson')),
    csv: async (header: CsvRecord) => {
      if (!csv) {
        csv = { lines: new ObjectLines(dest, `${folder}${PREDICTIONS_BY_KEY_FILE.csv}`, 'text/csv'), header };
        await csv.lines.line(['source_key', ...header.fields].map(csvField).join(','));
      }
      return csv;
    },
  };
  return {
    async write(row: Row, key: string | undefined, file: AggregatedFile) {
      if (file.format === 'jsonl') {
        await open.jsonl().line(JSON.stringify({ source_key: key ?? null, ...(JSON.parse(row.r) as object) }));
        return;
      }
      const target = await open.csv(file.header ?? { fields: [], raw: '' });
      const rest = file.header?.raw === target.header.raw ? row.r : arrange(row, file, target.header);
      await target.lines.line(`${csvField(key ?? '')},${rest}`);
    },
    async close() {
      // An aggregated format whose files had no rows still gets its (empty) joined file.
      if (aggregated.some((f) => f.format === 'jsonl')) open.jsonl();
      const firstCsv = aggregated.find((f) => f.format === 'csv');
      if (firstCsv) await open.csv(firstCsv.header ?? { fields: [], raw: '' });
      await Promise.all([jsonl?.close(), csv?.lines.close()]);
    },
    abort(err: Error) {
      jsonl?.abort(err);
      csv?.lines.abort(err);
    },
  };
}

function arrange(row: Row, file: AggregatedFile, header: CsvRecord): string {
  const byColumn = new Map((file.header?.fields ?? []).map((c, i) => [c, row.v?.[i] ?? '']));
  return header.fields.map((c) => csvField(byColumn.get(c) ?? '')).join(',');
}

/** Runs tasks with at most `limit` in flight; the first failure is thrown by `add` or `drain`. */
class InFlight {
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly limit: number) {}

  async add(task: () => Promise<unknown>): Promise<void> {
    this.throwIfFailed();
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwIfFailed();
    const run: Promise<void> = task()
      .then(
        () => undefined,
        (err) => void (this.failure ??= err),
      )
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    this.throwIfFailed();
  }

  private throwIfFailed() {
    if (this.failure !== undefined) throw this.failure;
  }
}
