import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors';
import { silentLogger } from '../../shared/log';
import { copyResultFile } from '../../shared/pipeline/copy-result';
import { DEFAULT_EXPORT_LIMITS } from '../../shared/pipeline/export-limits';
import { noProgress } from '../../shared/progress';
import type { ObjectStore } from '../../shared/storage/port';
import type { BatchTarget } from '../../shared/targets/port';
import { tarOf } from '../support/archive-server';

/** A bucket in a map that records removals. */
function memoryStore() {
  const objects = new Map<string, number>();
  const removed: string[] = [];
  const store = {
    bucket: 'mem',
    async write(key: string, body: Readable | Buffer) {
      const bytes = Buffer.isBuffer(body) ? body.length : (await body.toArray()).reduce((n, c: Buffer) => n + c.length, 0);
      objects.set(key, bytes);
      return { bytes };
    },
    async delete(key: string) {
      removed.push(key);
      objects.delete(key);
    },
  } as unknown as ObjectStore;
  return { store, objects, removed };
}

const job = { label: 'p1/r.tar', fileName: 'r.tar', locator: { kind: 'url' as const, url: 'http://127.0.0.1/r.tar' }, folder: 'out/p1/', keepArchive: false };
const time = { ms: 10_000, functionTime: true };
/** The copy of `job` going on after an earlier invocation stored its first four members. */
const resumedCopy = (dest: ObjectStore, target: BatchTarget) =>
  copyResultFile({ dest, target, log: silentLogger, progress: noProgress }, job, {
    attempts: 3,
    time,
    limits: DEFAULT_EXPORT_LIMITS,
    resume: { members: 4, bytes: 40 },
    handOn: 'with-progress',
  });

describe('copyResultFile going on from member K', () => {
  it('reads the archive again for the names of what earlier invocations stored when it fails before reaching them', async () => {
    const tar = await tarOf(Array.from({ length: 6 }, (_, i): [string, string] => [`m/${i}.json`, `{"i":${i}}`]));
    const mem = memoryStore();
    let opened = 0;
    // The first download fails for good before any member is read; the second is the archive.
    const target = {
      openOutput: async () => {
        if (++opened === 1) throw new RemoteError('download of p1/r.tar failed: HTTP 403');
        return { body: Readable.from([tar]) };
      },
    } as unknown as BatchTarget;
    await expect(resumedCopy(mem.store, target)).rejects.toThrow('HTTP 403');
    expect(opened).toBe(2);
    expect(mem.removed.sort()).toEqual(['out/p1/m/0.json', 'out/p1/m/1.json', 'out/p1/m/2.json', 'out/p1/m/3.json']);
  });

  it('says how many objects of earlier invocations it could not name when the archive cannot be read again', async () => {
    const target = { openOutput: async () => Promise.reject(new RemoteError('download of p1/r.tar failed: HTTP 404')) } as unknown as BatchTarget;
    await expect(resumedCopy(memoryStore().store, target)).rejects.toThrow('HTTP 404; 4 object(s) an earlier invocation stored could not be named to remove (download of p1/r.tar failed: HTTP 404)');
  });

  it('writes only the members after K and counts those before it as copied', async () => {
    const tar = await tarOf(Array.from({ length: 6 }, (_, i): [string, string] => [`m/${i}.json`, `{"i":${i}}`]));
    const mem = memoryStore();
    const target = { openOutput: async () => ({ body: Readable.from([tar]) }) } as unknown as BatchTarget;
    const copied = await resumedCopy(mem.store, target);
    expect([...mem.objects.keys()].sort()).toEqual(['out/p1/m/4.json', 'out/p1/m/5.json']);
    expect(copied).toEqual({ files: 6, bytes: 40 + 14 });
  });
});
