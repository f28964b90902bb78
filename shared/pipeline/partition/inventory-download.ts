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

/**
 * Copies a data file to a temporary file (streamed: memory stays small whatever its size) and
 * checks its size and MD5 against the manifest before anything reads it, so a damaged or replaced
 * file fails the run, naming it, before any of its rows is submitted. Parquet needs the local
 * copy anyway: its footer, at the end, says where each row group is.
 */
export async function downloadDataFile(store: ObjectStore, file: InventoryDataFile): Promise<LocalDataFile> {
  const where = `inventory data file s3://${store.bucket}/${file.key}`;
  const free = await statfs(tmpdir()).then((fs) => fs.bavail * fs.bsize);
  if (file.size > free) {
    throw new Error(`${where}: ${file.size} bytes, more than the ${free} bytes free in ${tmpdir()} (deployed: raise the function's ephemeral storage)`);
  }
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
  }
}
