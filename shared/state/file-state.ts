import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KeyedLock } from '../run-lock';
import { z } from 'zod';
import { FilePartitions } from './file-partitions';
import type { PartitionStore } from './partition-store';
import { RunExistsError, type EventClaim, type StateStore } from './port';
import { chunkId } from './run-chunks';
import type { ExportTaskOrder } from './export-order';
import { Chunk, ExportTaskResult, FileFailure, inlineChunks, NameMapping, RunRecord, type ChunkKey } from './run-record';

/**
 * File-backed state for the CLI: one folder per run (run.json, names.jsonl, failures.jsonl, one
 * file per chunk in chunks/), one marker file per webhook event (claimed, then done). Writes are atomic (temp file + rename); updates of a run
 * are serialised within the process, which is the only writer in CLI use.
 */
export class FileStateStore implements StateStore {
  private readonly lock = new KeyedLock();
  readonly partitions: PartitionStore = new FilePartitions((runId) => this.runDir(runId));
  /**
   * The task ids in each run's export-tasks.jsonl and the file's size when they were read: the file
   * is read again only when its size says another writer appended to it, not once per task.
   */
  private readonly exportedTasks = new Map<string, { ids: Set<string>; size: number }>();
  /** Who was told each run's export is complete (see StateStore.recordExportTask). */
  private readonly exportFinishers = new Map<string, string>();
  /** Each run's exportTasks as last read or written (see exportTotal). */
  private readonly exportTotals = new Map<string, number | undefined>();
  /** Numbers temp files, so two writes of one chunk (an update and a migration) never share one. */
  private writes = 0;

  constructor(private readonly dir: string) {}

  async createRun(run: RunRecord): Promise<void> {
    const folder = this.runDir(run.runId);
    await mkdir(join(this.dir, 'runs'), { recursive: true });
    try {
      await mkdir(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RunExistsError(run.runId);
      throw err;
    }
    await this.writeRun(run);
    await this.index('batch', run.batchId, run.runId);
    await this.index('job', run.jobId, run.runId);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const raw = await this.readRunFile(runId);
    if (raw === undefined) return undefined;
    // A record written before chunks had files of their own is migrated under the run's lock.
    if (inlineChunks(raw).length > 0) return this.lock.run(runId, () => this.loadRun(runId));
    return RunRecord.parse(raw);
  }

  updateRun(runId: string, change: (run: RunRecord) => RunRecord): Promise<RunRecord> {
    return this.lock.run(runId, async () => {
      const current = await this.loadRun(runId);
      if (!current) throw new Error(`run ${runId} not found`);
      const next = RunRecord.parse({ ...change(structuredClone(current)), updatedAt: new Date().toISOString() });
      await this.writeRun(next);
      return next;
    });
  }

  updateChunk(runId: string, key: ChunkKey, change: (chunk: Chunk | undefined) => Chunk | undefined): Promise<Chunk | undefined> {
    const id = chunkId(key);
    return this.lock.run(`${runId}#chunk#${id}`, async () => {
      const current = await this.getChunk(runId, key);
      const next = change(current === undefined ? undefined : structuredClone(current));
      if (next === undefined) return current;
      const chunk = Chunk.parse(next);
      if (chunkId(chunk) !== id) throw new Error(`an update of chunk ${id} of run ${runId} must not change its key (got ${chunkId(chunk)})`);
      await this.writeChunk(runId, chunk);
      return chunk;
    });
  }

  async getChunk(runId: string, key: ChunkKey): Promise<Chunk | undefined> {
    const text = await readOptional(join(this.runDir(runId), 'chunks', `${chunkId(key)}.json`));
    return text === undefined ? undefined : Chunk.parse(JSON.parse(text));
  }

  async *chunks(runId: string): AsyncGenerator<Chunk> {
    let files: string[];
    try {
      files = (await readdir(join(this.runDir(runId), 'chunks'))).filter((f) => f.endsWith('.json')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const file of files) {
      const text = await readOptional(join(this.runDir(runId), 'chunks', file));
      if (text !== undefined) yield Chunk.parse(JSON.parse(text));
    }
  }

  async findRunByBatchId(batchId: string) {
    return this.lookup('batch', batchId);
  }

  async findRunByJobId(jobId: string) {
    return this.lookup('job', jobId);
  }

  async linkJob(jobId: string, runId: string): Promise<void> {
    await this.index('job', jobId, runId);
  }

  async hasEvent(eventId: string): Promise<boolean> {
    return (await this.readEvent(eventId))?.state === 'done';
  }

  async recordEvent(eventId: string): Promise<boolean> {
    await mkdir(join(this.dir, 'events'), { recursive: true });
    try {
      await writeFile(this.eventPath(eventId), JSON.stringify({ eventId, state: 'done' }), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  claimEvent(eventId: string, claim: EventClaim): Promise<'claimed' | 'in-flight' | 'done'> {
    return this.lock.run(`event#${eventId}`, async () => {
      const current = await this.readEvent(eventId);
      if (current?.state === 'done') return 'done';
      if (current && current.leaseUntil >= Date.now()) return 'in-flight';
      await this.writeEvent(eventId, { eventId, state: 'claimed', ...claim });
      return 'claimed';
    });
  }

  completeEvent(eventId: string): Promise<void> {
    return this.lock.run(`event#${eventId}`, () => this.writeEvent(eventId, { eventId, state: 'done' }));
  }

  releaseEvent(eventId: string, owner: string): Promise<void> {
    return this.lock.run(`event#${eventId}`, async () => {
      const current = await this.readEvent(eventId);
      if (current?.state === 'claimed' && current.owner === owner) await rm(this.eventPath(eventId), { force: true });
    });
  }

  async appendNames(runId: string, entries: NameMapping[]): Promise<void> {
    if (entries.length === 0) return;
    await appendFile(join(this.runDir(runId), 'names.jsonl'), entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  names(runId: string): AsyncIterable<NameMapping> {
    return readJsonl(join(this.runDir(runId), 'names.jsonl'), NameMapping);
  }

  async resolveNames(runId: string, names: Iterable<string>): Promise<Map<string, string>> {
    const wanted = new Set(names);
    const found = new Map<string, string>();
    if (wanted.size === 0) return found;
    for await (const entry of this.names(runId)) {
      if (wanted.has(entry.name)) found.set(entry.name, entry.key);
      if (found.size === wanted.size) break;
    }
    return found;
  }

  recordFailures(runId: string, failures: FileFailure[]): Promise<void> {
    if (failures.length === 0) return Promise.resolve();
    return this.lock.run(`${runId}#failures`, async () => {
      const path = join(this.runDir(runId), 'failures.jsonl');
      const known = new Set<string>();
      for await (const f of readJsonl(path, FileFailure)) known.add(`${f.stage}\n${f.name}`);
      const fresh = failures.filter((f) => {
        const id = `${f.stage}\n${f.name}`;
        if (known.has(id)) return false;
        known.add(id);
        return true;
      });
      if (fresh.length > 0) await appendFile(path, fresh.map((f) => JSON.stringify(f)).join('\n') + '\n');
    });
  }

  /** The order is not needed here: the ids are at hand, so the run's total is compared with their count. */
  recordExportTask(runId: string, result: ExportTaskResult, _order?: ExportTaskOrder): Promise<{ complete: boolean }> {
    return this.lock.run(`${runId}#export`, async () => {
      const path = join(this.runDir(runId), 'export-tasks.jsonl');
      const size = await sizeOf(path);
      let known = this.exportedTasks.get(runId);
      if (known?.size !== size) {
        known = { ids: new Set<string>(), size };
        for await (const r of readJsonl(path, ExportTaskResult)) known.ids.add(r.taskId);
        this.exportedTasks.set(runId, known);
      }
      if (!known.ids.has(result.taskId)) {
        const line = JSON.stringify(result) + '\n';
        await appendFile(path, line);
        known.ids.add(result.taskId);
        known.size += Buffer.byteLength(line);
      }
      return { complete: await this.claimExportCompletion(runId, known.ids.size, result.taskId) };
    });
  }

  checkExportComplete(runId: string): Promise<{ complete: boolean }> {
    return this.lock.run(`${runId}#export`, async () => {
      let done = 0;
      for await (const _ of readJsonl(join(this.runDir(runId), 'export-tasks.jsonl'), ExportTaskResult)) done++;
      return { complete: await this.claimExportCompletion(runId, done, '#plan') };
    });
  }

  /** Called under the run's export lock: the first claimant to see every task done, or that one again. */
  private async claimExportCompletion(runId: string, done: number, claimant: string): Promise<boolean> {
    const total = await this.exportTotal(runId);
    if (total === undefined || done < total) return false;
    const first = this.exportFinishers.get(runId) ?? claimant;
    this.exportFinishers.set(runId, first);
    return first === claimant;
  }

  /**
   * The run's exportTasks, read from run.json once and then kept as this process writes the run
   * (writeRun): the process is the only writer (see above), so no read per recorded outcome.
   */
  private async exportTotal(runId: string): Promise<number | undefined> {
    if (this.exportTotals.has(runId)) return this.exportTotals.get(runId);
    const total = (await this.getRun(runId))?.exportTasks;
    // A write that landed while this read went on knows better.
    if (!this.exportTotals.has(runId)) this.exportTotals.set(runId, total);
    return total;
  }

  exportTaskResults(runId: string): AsyncIterable<ExportTaskResult> {
    return readJsonl(join(this.runDir(runId), 'export-tasks.jsonl'), ExportTaskResult);
  }

  async resetExport(runId: string): Promise<void> {
    await this.lock.run(`${runId}#export`, async () => {
      this.exportedTasks.delete(runId);
      this.exportFinishers.delete(runId);
      await rm(join(this.runDir(runId), 'export-tasks.jsonl'), { force: true });
    });
    await this.keepFailures(runId, (f) => f.stage !== 'export');
  }

  async forgetFailures(runId: string, stage: FileFailure['stage'], names: Iterable<string>): Promise<void> {
    const forgotten = new Set(names);
    if (forgotten.size > 0) await this.keepFailures(runId, (f) => f.stage !== stage || !forgotten.has(f.name));
  }

  private keepFailures(runId: string, keep: (f: FileFailure) => boolean): Promise<void> {
    return this.lock.run(`${runId}#failures`, () => filterJsonl(join(this.runDir(runId), 'failures.jsonl'), FileFailure, keep));
  }

  failures(runId: string): AsyncIterable<FileFailure> {
    return readJsonl(join(this.runDir(runId), 'failures.jsonl'), FileFailure);
  }

  /** Ids of every run in this folder. */
  async runIds(): Promise<string[]> {
    try {
      return (await readdir(join(this.dir, 'runs'), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Keeps the first `count` name mappings. Names are appended as a chunk is filled, so a process
   * stopped mid-chunk leaves mappings past the checkpoint that the resumed chunk would add again.
   */
  async keepFirstNames(runId: string, count: number): Promise<void> {
    let seen = 0;
    await filterJsonl(join(this.runDir(runId), 'names.jsonl'), NameMapping, () => (++seen > count ? 'stop' : true));
  }

  private runDir(runId: string) {
    if (!/^[a-z0-9_-]+$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
    return join(this.dir, 'runs', runId);
  }

  private async readRunFile(runId: string): Promise<unknown> {
    const text = await readOptional(join(this.runDir(runId), 'run.json'));
    return text === undefined ? undefined : JSON.parse(text);
  }

  /**
   * The run record, with the inline chunks of an earlier version's record moved to chunk files
   * first (a chunk file already there is newer and kept). Called under the run's lock.
   */
  private async loadRun(runId: string): Promise<RunRecord | undefined> {
    const raw = await this.readRunFile(runId);
    if (raw === undefined) return undefined;
    const run = RunRecord.parse(raw);
    const legacy = inlineChunks(raw);
    if (legacy.length === 0) return run;
    for (const chunk of legacy) await this.writeChunk(runId, chunk, { onlyIfAbsent: true });
    await this.writeRun(run);
    return run;
  }

  private async writeChunk(runId: string, chunk: Chunk, options: { onlyIfAbsent?: boolean } = {}) {
    const folder = join(this.runDir(runId), 'chunks');
    await mkdir(folder, { recursive: true });
    const path = join(folder, `${chunkId(chunk)}.json`);
    if (options.onlyIfAbsent && (await readOptional(path)) !== undefined) return;
    const temp = `${path}.${process.pid}.${++this.writes}.tmp`;
    await writeFile(temp, JSON.stringify(chunk));
    await rename(temp, path);
  }

  private async writeRun(run: RunRecord) {
    const path = join(this.runDir(run.runId), 'run.json');
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(run, null, 2));
    await rename(temp, path);
    this.exportTotals.set(run.runId, run.exportTasks);
  }

  private eventPath(eventId: string) {
    return join(this.dir, 'events', hashed(eventId));
  }

  /** Marker files written before claims existed hold the bare event id: handled. */
  private async readEvent(eventId: string) {
    const text = await readOptional(this.eventPath(eventId));
    if (text === undefined) return undefined;
    const marker = EventMarker.safeParse(safeJson(text));
    return marker.success ? marker.data : { state: 'done' as const };
  }

  private async writeEvent(eventId: string, marker: EventMarker) {
    await mkdir(join(this.dir, 'events'), { recursive: true });
    const path = this.eventPath(eventId);
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(marker));
    await rename(temp, path);
  }

  private async index(kind: 'batch' | 'job', id: string, runId: string) {
    const folder = join(this.dir, 'index', kind);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, hashed(id)), runId);
  }

  private async lookup(kind: 'batch' | 'job', id: string) {
    const runId = await readOptional(join(this.dir, 'index', kind, hashed(id)));
    return runId === undefined ? undefined : this.getRun(runId);
  }
}

const EventMarker = z.discriminatedUnion('state', [
  z.object({ eventId: z.string(), state: z.literal('done') }),
  z.object({ eventId: z.string(), state: z.literal('claimed'), owner: z.string(), leaseUntil: z.number() }),
]);
type EventMarker = z.infer<typeof EventMarker>;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function hashed(id: string) {
  return createHash('sha256').update(id).digest('hex');
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Kept lines are written in batches of about this many characters. */
const WRITE_BATCH_CHARS = 64 * 1024;

/**
 * Rewrites a JSONL file with only the entries `keep` accepts, streamed (memory stays flat however
 * long the file is); `'stop'` drops that entry and every one after it. The file is replaced
 * atomically (temp file + rename), and only when an entry was dropped.
 */
async function filterJsonl<T>(path: string, schema: { parse(v: unknown): T }, keep: (entry: T) => boolean | 'stop'): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const out = await open(temp, 'w');
  let batch = '';
  let dropped = false;
  let replace = false;
  try {
    for await (const entry of readJsonl(path, schema)) {
      const verdict = keep(entry);
      dropped ||= verdict !== true;
      if (verdict === 'stop') break;
      if (!verdict) continue;
      batch += JSON.stringify(entry) + '\n';
      if (batch.length >= WRITE_BATCH_CHARS) {
        await out.write(batch);
        batch = '';
      }
    }
    if (batch) await out.write(batch);
    replace = dropped;
  } finally {
    await out.close();
    if (!replace) await rm(temp, { force: true });
  }
  if (replace) await rename(temp, path);
}

async function* readJsonl<T>(path: string, schema: { parse(v: unknown): T }): AsyncGenerator<T> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  try {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of lines) if (line.trim() !== '') yield schema.parse(JSON.parse(line));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  } finally {
    stream.destroy();
  }
}

/** Bytes in a file; 0 when it does not exist. */
async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
