import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { MemberWrites, WRITES_IN_FLIGHT } from '../../shared/pipeline/member-writes';
import type { ObjectStore, WriteBody } from '../../shared/storage/port';

/** A store that holds objects in a map; writes take `delayMs`, a key in `failing` fails. */
function memoryStore(options: { delayMs?: number; failing?: Set<string>; undeletable?: Set<string> } = {}) {
  const objects = new Map<string, Buffer>();
  let inFlight = 0;
  let maxInFlight = 0;
  const store = {
    bucket: 'mem',
    async write(key: string, body: WriteBody) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : await buffer(body);
        await new Promise((r) => setTimeout(r, options.delayMs ?? 1));
        if (options.failing?.has(key)) throw new Error(`write of ${key} failed`);
        objects.set(key, bytes);
        return { bytes: bytes.length };
      } finally {
        inFlight--;
      }
    },
    async delete(key: string) {
      if (options.undeletable?.has(key)) throw new Error('AccessDenied');
      objects.delete(key);
    },
  } as unknown as ObjectStore;
  return { store, objects, maxInFlight: () => maxInFlight };
}

const member = (text: string) => Readable.from([Buffer.from(text)]);

describe('MemberWrites', () => {
  it('overlaps the writes of small members, never more than its bound at once', async () => {
    const mem = memoryStore({ delayMs: 5 });
    const progress = { files: 0, bytes: 0 };
    const writes = new MemberWrites(mem.store, (files, bytes) => {
      progress.files += files;
      progress.bytes += bytes;
    });
    for (let i = 0; i < 100; i++) await writes.add(`m/${i}`, member(`#${i}`), `#${i}`.length);
    const done = await writes.finish();
    expect(done.files).toBe(100);
    expect(mem.objects.size).toBe(100);
    expect(mem.maxInFlight()).toBeGreaterThan(1);
    expect(mem.maxInFlight()).toBeLessThanOrEqual(WRITES_IN_FLIGHT);
    expect(progress).toEqual({ files: 100, bytes: done.bytes });
  });

  it('fails with the first failed write and removes everything it started', async () => {
    const mem = memoryStore({ failing: new Set(['m/3']) });
    const progress = { files: 0, bytes: 0 };
    const writes = new MemberWrites(mem.store, (files, bytes) => {
      progress.files += files;
      progress.bytes += bytes;
    });
    const adding = (async () => {
      for (let i = 0; i < 40; i++) await writes.add(`m/${i}`, member(`${i}`), `${i}`.length);
    })();
    await expect(adding.then(() => writes.finish())).rejects.toThrow('write of m/3 failed');
    expect(await writes.rollback()).toBeUndefined();
    expect(mem.objects.size).toBe(0);
    expect(progress).toEqual({ files: 0, bytes: 0 });
  });

  it('says what it could not remove', async () => {
    const mem = memoryStore({ undeletable: new Set(['m/1']) });
    const writes = new MemberWrites(mem.store, () => {});
    for (let i = 0; i < 3; i++) await writes.add(`m/${i}`, member('x'), 1);
    await writes.finish();
    expect(await writes.rollback()).toBe('1 of its 3 object(s) could not be removed (AccessDenied)');
    expect([...mem.objects.keys()]).toEqual(['m/1']);
  });
});
