import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { BUFFERED_MEMBER_BYTES, MemberWrites, WRITES_IN_FLIGHT } from '../../shared/pipeline/member-writes';
import { Budget } from '../../shared/pipeline/write-budget';
import type { ObjectStore, WriteBody } from '../../shared/storage/port';

/** A store that holds objects in a map; writes take `delayMs`, a key in `failing` fails. */
function memoryStore(options: { delayMs?: number; failing?: Set<string>; undeletable?: Set<string> } = {}) {
  const objects = new Map<string, Buffer>();
  let inFlight = 0;
  let maxInFlight = 0;
  let heldBytes = 0;
  let maxHeldBytes = 0;
  let streams = 0;
  let maxStreams = 0;
  const store = {
    bucket: 'mem',
    async write(key: string, body: WriteBody) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const held = Buffer.isBuffer(body) ? body.length : 0;
      heldBytes += held;
      maxHeldBytes = Math.max(maxHeldBytes, heldBytes);
      const streamed = !Buffer.isBuffer(body) && typeof body !== 'string';
      if (streamed) maxStreams = Math.max(maxStreams, ++streams);
      try {
        const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : await buffer(body);
        await new Promise((r) => setTimeout(r, options.delayMs ?? 1));
        if (options.failing?.has(key)) throw new Error(`write of ${key} failed`);
        objects.set(key, bytes);
        return { bytes: bytes.length };
      } finally {
        inFlight--;
        heldBytes -= held;
        if (streamed) streams--;
      }
    },
    async delete(key: string) {
      if (options.undeletable?.has(key)) throw new Error('AccessDenied');
      objects.delete(key);
    },
  } as unknown as ObjectStore;
  return { store, objects, maxInFlight: () => maxInFlight, maxHeldBytes: () => maxHeldBytes, maxStreams: () => maxStreams };
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

  it('holds no more small-member bytes than the budget its copies share, and streams large members one slot at a time', async () => {
    const mem = memoryStore({ delayMs: 10 });
    const budget = { bufferedBytes: new Budget(8 * 1024), streams: new Budget(1) };
    const copies = [new MemberWrites(mem.store, () => {}, budget), new MemberWrites(mem.store, () => {}, budget)];
    const small = Buffer.alloc(3000, 1);
    const large = Buffer.alloc(BUFFERED_MEMBER_BYTES + 1, 2);
    await Promise.all(
      copies.map(async (writes, c) => {
        for (let i = 0; i < 12; i++) await writes.add(`c${c}/small-${i}`, member(small.toString()), small.length);
        // Large members (and bodies of unknown size) stream: the two copies take turns at the one slot.
        await writes.add(`c${c}/large`, Readable.from([large]), large.length);
        await writes.add(`c${c}/unsized`, Readable.from([small]), undefined);
        await writes.finish();
      }),
    );
    expect(mem.objects.size).toBe(2 * 14);
    // Two 3,000-byte members fit in 8 KiB, a third does not: never more than two held, yet overlapping.
    expect(mem.maxHeldBytes()).toBeLessThanOrEqual(8 * 1024);
    expect(mem.maxHeldBytes()).toBeGreaterThan(small.length);
    expect(mem.maxStreams()).toBe(1);
    expect(budget.bufferedBytes.inUse).toBe(0);
    expect(budget.streams.inUse).toBe(0);
  });

  it('counts the members stored in order from the first, and keeps only those when cut short', async () => {
    // m/2 fails after m/3 and m/4 were stored: the unbroken run from the first ends at m/1.
    const mem = memoryStore({ delayMs: 20, failing: new Set(['m/2']) });
    const writes = new MemberWrites(mem.store, () => {});
    for (let i = 0; i < 5; i++) await writes.add(`m/${i}`, member(`#${i}`), 2);
    await expect(writes.finish()).rejects.toThrow('write of m/2 failed');
    expect(writes.confirmed).toBe(2);
    expect(await writes.keepConfirmed()).toEqual({ members: 2, bytes: 4, notRemoved: undefined });
    expect([...mem.objects.keys()].sort()).toEqual(['m/0', 'm/1']);
  });
});
