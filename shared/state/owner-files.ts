import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedLock } from '../run-lock';
import { RunOwner } from './run-owner';

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

  private path(runId: string) {
    if (!/^[a-z0-9_-]+$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
    return join(this.dir, 'owners', `${runId}.json`);
  }
}
