import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedLock } from '../run-lock';
import { EMPTY_PROGRESS, PartitionRecord, type PartitionClaim, type PartitionProgress, type PartitionRef, type PartitionStore } from './partition-store';

/**
 * Partition items for the file-backed state: one JSON file per partition under
 * `runs/<runId>/partitions/<plan>/`, changed under a per-partition lock (the CLI process is the
 * only writer). The CLI lists its partitions within one process (see pipeline/partition), so this
 * mainly keeps the state port one interface; it keeps the same rules as the DynamoDB items.
 */
export class FilePartitions implements PartitionStore {
  private readonly lock = new KeyedLock();
  private writes = 0;

  constructor(private readonly runDir: (runId: string) => string) {}

  async save(runId: string, plan: string, partitions: Array<{ index: number; descriptor: string }>): Promise<void> {
    for (const p of partitions) {
      const record: PartitionRecord = { index: p.index, descriptor: p.descriptor, status: 'pending', progress: EMPTY_PROGRESS };
      await this.locked({ runId, plan, index: p.index }, () => this.write({ runId, plan, index: p.index }, record));
    }
  }

  async get(ref: PartitionRef): Promise<PartitionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(ref), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return PartitionRecord.parse(JSON.parse(text));
  }

  async *list(runId: string, plan: string): AsyncGenerator<PartitionRecord> {
    let files: string[];
    try {
      files = (await readdir(this.planDir(runId, plan))).filter((f) => /^\d+\.json$/.test(f)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const file of files) {
      const record = await this.get({ runId, plan, index: Number(file.slice(0, -'.json'.length)) });
      if (record) yield record;
    }
  }

  claim(ref: PartitionRef, owner: string, until: number, now: number): Promise<PartitionClaim> {
    return this.locked(ref, async () => {
      const current = await this.existing(ref);
      if (current.status === 'done') return 'done';
      if (current.lease && current.lease.until >= now && current.lease.owner !== owner) return 'busy';
      await this.write(ref, { ...current, lease: { owner, until } });
      return 'claimed';
    });
  }

  checkpoint(ref: PartitionRef, owner: string, progress: PartitionProgress): Promise<boolean> {
    return this.locked(ref, async () => {
      const current = await this.existing(ref);
      if (current.status === 'done' || current.lease?.owner !== owner) return false;
      await this.write(ref, { ...current, progress });
      return true;
    });
  }

  release(ref: PartitionRef, owner: string): Promise<void> {
    return this.locked(ref, async () => {
      const current = await this.get(ref);
      if (current?.lease?.owner === owner) await this.write(ref, { ...current, lease: undefined });
    });
  }

  complete(ref: PartitionRef, progress: PartitionProgress): Promise<{ done: number }> {
    return this.locked(ref, async () => {
      const current = await this.existing(ref);
      if (current.status !== 'done') await this.write(ref, { ...current, status: 'done', progress, lease: undefined });
      let done = 0;
      for await (const p of this.list(ref.runId, ref.plan)) if (p.status === 'done') done++;
      return { done };
    });
  }

  async discard(runId: string, plan: string): Promise<void> {
    await rm(this.planDir(runId, plan), { recursive: true, force: true });
  }

  private async existing(ref: PartitionRef): Promise<PartitionRecord> {
    const current = await this.get(ref);
    if (!current) throw new Error(`run ${ref.runId}: partition ${ref.index} of plan ${ref.plan} not found`);
    return current;
  }

  private locked<T>(ref: PartitionRef, work: () => Promise<T>): Promise<T> {
    return this.lock.run(`${ref.runId}#${ref.plan}#${ref.index}`, work);
  }

  private planDir(runId: string, plan: string): string {
    if (!/^[a-z0-9]+$/.test(plan)) throw new Error(`invalid partition plan id ${JSON.stringify(plan)}`);
    return join(this.runDir(runId), 'partitions', plan);
  }

  private path(ref: PartitionRef): string {
    return join(this.planDir(ref.runId, ref.plan), `${String(ref.index).padStart(6, '0')}.json`);
  }

  private async write(ref: PartitionRef, record: PartitionRecord): Promise<void> {
    const path = this.path(ref);
    await mkdir(join(path, '..'), { recursive: true });
    const temp = `${path}.${process.pid}.${++this.writes}.tmp`;
    await writeFile(temp, JSON.stringify(PartitionRecord.parse(record)));
    await rename(temp, path);
  }
}
