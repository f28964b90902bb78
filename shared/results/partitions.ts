import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Partition of a reference name: FNV-1a over its UTF-16 code units. */
export function partitionOf(name: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/**
 * Local spill files for a join too large for memory: records go, one JSON line each, into the
 * file of their name's partition, so each partition can be joined on its own afterwards (a grace
 * hash join). Lives in a fresh temporary folder until `remove`.
 */
export class SpillFolder {
  private constructor(readonly dir: string) {}

  static async create(): Promise<SpillFolder> {
    return new SpillFolder(await mkdtemp(join(tmpdir(), 'bucket-bridge-join-')));
  }

  /** Opens `count` partition files of one kind; records written by name. */
  partitioned<T>(kind: string, count: number): PartitionWriter<T> {
    return new PartitionWriter<T>((p) => this.path(kind, p), count);
  }

  /** One unpartitioned file of one kind. */
  single<T>(kind: string): PartitionWriter<T> {
    return new PartitionWriter<T>(() => this.path(kind, 0), 1);
  }

  /** The records of one partition (or of a single file: partition 0), in the order written. */
  async *read<T>(kind: string, partition: number): AsyncGenerator<T> {
    const lines = createInterface({ input: createReadStream(this.path(kind, partition)), crlfDelay: Infinity });
    for await (const line of lines) if (line !== '') yield JSON.parse(line) as T;
  }

  /** Deletes the files of one kind that are no longer needed (keeps local disk use down). */
  discard(kind: string, count: number): Promise<void> {
    return Promise.all(Array.from({ length: count }, (_, p) => rm(this.path(kind, p), { force: true }))).then(() => undefined);
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }

  private path(kind: string, partition: number) {
    return join(this.dir, `${kind}-${partition}.jsonl`);
  }
}

export class PartitionWriter<T> {
  private readonly files: WriteStream[];

  constructor(path: (partition: number) => string, readonly count: number) {
    this.files = Array.from({ length: count }, (_, p) => createWriteStream(path(p)));
  }

  /** Appends `record` to the file of `name`'s partition, waiting while that file is backed up. */
  async add(name: string, record: T): Promise<void> {
    const file = this.files[this.count === 1 ? 0 : partitionOf(name, this.count)]!;
    if (!file.write(JSON.stringify(record) + '\n')) await once(file, 'drain');
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => new Promise<void>((resolve, reject) => f.end((err?: Error | null) => (err ? reject(err) : resolve())))));
  }
}
