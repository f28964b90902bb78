import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedLock } from '../run-lock';
import { RunOwner } from './run-owner';

/** A claim lock older than this was left by a process that died while claiming. */
const CLAIM_LOCK_STALE_MS = 10_000;

/** Owner records of the runs in a CLI state folder: `owners/<runId>.json`, written atomically. */
export class OwnerFiles {
  private readonly lock = new KeyedLock();

  constructor(private readonly dir: string) {}

  /** Undefined for runs from before owners were recorded (or never driven from this folder). */
  async get(runId: string): Promise<RunOwner | undefined> {
    try {
      return RunOwner.parse(JSON.parse(await readFile(this.path(runId), 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(runId: string, owner: RunOwner): Promise<void> {
    const path = this.path(runId);
    await mkdir(join(this.dir, 'owners'), { recursive: true });
    await this.lock.run(runId, async () => {
      const temp = `${path}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify(RunOwner.parse(owner), null, 2));
      await rename(temp, path);
    });
  }

  /**
   * Writes `owner` unless `refusal` objects to the current record. Reading and writing happen under
   * an exclusive lock file, so of two processes taking the same run at once, one is refused.
   */
  async claim(runId: string, owner: RunOwner, refusal: (current: RunOwner | undefined) => Error | undefined): Promise<void> {
    const lock = `${this.path(runId)}.lock`;
    await mkdir(join(this.dir, 'owners'), { recursive: true });
    if (!(await takeLock(lock))) throw new Error(`run ${runId} is being taken on by another process right now; try again in a moment`);
    try {
      const refused = refusal(await this.get(runId));
      if (refused) throw refused;
      await this.put(runId, owner);
    } finally {
      await rm(lock, { force: true });
    }
  }

  private path(runId: string) {
    if (!/^[a-z0-9_-]+$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
    return join(this.dir, 'owners', `${runId}.json`);
  }
}

/** Creates the lock file exclusively; a stale one (its creator died) is replaced once. */
async function takeLock(path: string, retry = true): Promise<boolean> {
  try {
    await writeFile(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
    if (!retry || age < CLAIM_LOCK_STALE_MS) return false;
    await rm(path, { force: true });
    return takeLock(path, false);
  }
}
