import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../../storage/port';

/** One data file as its manifest lists it. */
export interface InventoryDataFile {
  key: string;
  size: number;
  /** MD5 of the file, hex. */
  md5: string;
}

/** A verified local copy of a data file; `remove` deletes it. */
export interface LocalDataFile {
  path: string;
  remove(): Promise<void>;
}

/** Bytes the data files this process is copying have still to write (the CLI copies `--concurrency` at once). */
let promised = 0;

const freeTemporaryBytes = () => statfs(tmpdir()).then((fs) => fs.bavail * fs.bsize);

/**
 * Copies a data file to a temporary file (streamed: memory stays small whatever its size) and
 * checks its size and MD5 against the manifest before anything reads it, so a damaged or replaced
 * file fails the run, naming it, before any of its rows is submitted. Parquet needs the local
 * copy anyway: its footer, at the end, says where each row group is. A file larger than the free
 * temporary space (less what the copies under way still need) is refused before the copy.
 */
export async function downloadDataFile(store: ObjectStore, file: InventoryDataFile, freeBytes = freeTemporaryBytes): Promise<LocalDataFile> {
  const where = `inventory data file s3://${store.bucket}/${file.key}`;
  const free = await freeBytes();
  if (file.size > free - promised) {
    const held = promised > 0 ? ` (${free} free, ${promised} of them needed by the data files being copied)` : '';
    throw new Error(
      `${where}: ${file.size} bytes, more than the ${free - promised} bytes free in ${tmpdir()}${held}; deployed: raise discovery.inventoryStorageMiB, the partition function's ephemeral storage (at most 10,240 MiB)`,
    );
  }
  promised += file.size;
  let owed = file.size;
  const settle = (bytes: number) => {
    const n = Math.min(bytes, owed);
    owed -= n;
    promised -= n;
  };
  const dir = await mkdtemp(join(tmpdir(), 'bb-inventory-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'data');
  try {
    const md5 = createHash('md5');
    let bytes = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        bytes += chunk.length;
        settle(chunk.length);
        done(null, chunk);
      },
    });
    await pipeline(await store.read(file.key), hashing, createWriteStream(path));
    if (bytes !== file.size) throw new Error(`${where}: ${bytes} bytes read, the manifest says ${file.size} (damaged, truncated or replaced)`);
    const actual = md5.digest('hex');
    if (actual !== file.md5.toLowerCase()) throw new Error(`${where}: its MD5 is ${actual}, the manifest says ${file.md5} (damaged or replaced)`);
    return { path, remove };
  } catch (err) {
    await remove();
    throw err;
  } finally {
    settle(owed);
  }
}
