import { describe, expect, it } from 'vitest';
import { describePartition } from '../../shared/pipeline/partition/descriptor';
import { compareKeys } from '../../shared/pipeline/partition/key-order';
import { listPartition, listSource, orderedMerge } from '../../shared/pipeline/partition/listing';
import { planPartitions } from '../../shared/pipeline/partition/plan';
import type { ListOptions, ListPage, ObjectStore, StoredObject } from '../../shared/storage/port';

/**
 * One bucket in memory, listing as S3 does: UTF-8 byte order, `StartAfter`, `Delimiter` with
 * common prefixes counted against the page size, continuation by position. Counts its requests.
 * Keys are found by binary search, so folders of 200,000 keys list quickly.
 */
class MemoryListing implements Pick<ObjectStore, 'bucket' | 'list'> {
  readonly bucket = 'memory';
  requests = 0;
  readonly keys: string[];
  private readonly bytes: Buffer[];
  constructor(keys: Iterable<string>) {
    this.bytes = [...new Set(keys)].map((k) => Buffer.from(k)).sort(Buffer.compare);
    this.keys = this.bytes.map((b) => b.toString());
  }
  /** Index of the first key above `after` (or at/above `prefix` when there is no `after`). */
  private firstAbove(bound: string, inclusive: boolean): number {
    const target = Buffer.from(bound);
    let lo = 0;
    let hi = this.bytes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.bytes[mid]!, target);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListPage> {
    const max = options.pageSize ?? 1000;
    let after = options.startToken ?? options.startAfter;
    for (;;) {
      this.requests++;
      const objects: StoredObject[] = [];
      const commonPrefixes: string[] = [];
      let truncated = false;
      let i = after === undefined || Buffer.compare(Buffer.from(after), Buffer.from(prefix)) < 0 ? this.firstAbove(prefix, true) : this.firstAbove(after, false);
      while (i < this.keys.length && this.keys[i]!.startsWith(prefix)) {
        const key = this.keys[i]!;
        if (objects.length + commonPrefixes.length === max) {
          truncated = true;
          break;
        }
        const cut = options.delimiter ? key.indexOf(options.delimiter, prefix.length) : -1;
        if (cut === -1) {
          objects.push({ key, size: 1 });
          after = key;
          i++;
          continue;
        }
        const common = key.slice(0, cut + 1);
        commonPrefixes.push(common);
        // Keys rolled up into a common prefix are skipped as one entry.
        after = common + '\u{10FFFF}';
        i = this.firstAbove(after, false);
      }
      if (truncated && options.delimiter) after = objects.at(-1)?.key ?? commonPrefixes.at(-1)! + '\u{10FFFF}';
      yield { objects, nextToken: truncated ? after : undefined, ...(options.delimiter ? { commonPrefixes } : {}) };
      if (!truncated) return;
    }
  }
}

/** A small deterministic generator (mulberry32), so a failing case can be replayed by its seed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Characters around '/' and across UTF-16's ordering trap (astral vs U+E000–U+FFFF). */
const ALPHABET = ['a', 'b', 'z', '0', '9', '.', '-', '/', '0', '/', 'é', '日', '\u{1F600}', '\uFFFD', '\uE000', ' ', '+', '_', 'A'];

function keySet(rand: () => number, prefix: string): string[] {
  const keys = new Set<string>();
  const count = 1 + Math.floor(rand() * 300);
  const flat = rand() < 0.3; // a flat folder of numbered files, like a camera's dump
  for (let i = 0; i < count; i++) {
    if (flat) keys.add(`${prefix}img_${String(Math.floor(rand() * 100000)).padStart(6, '0')}.jpg`);
    else {
      const length = 1 + Math.floor(rand() * 8);
      let key = prefix;
      for (let j = 0; j < length; j++) key += ALPHABET[Math.floor(rand() * ALPHABET.length)];
      keys.add(key);
    }
  }
  // Keys outside the prefix that sort right next to it.
  keys.add(prefix.slice(0, -1) + '.jpg');
  keys.add(prefix.slice(0, -1) + '0/x.jpg');
  return [...keys];
}

async function collectPages(pages: AsyncIterable<ListPage>): Promise<ListPage[]> {
  const all: ListPage[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

async function collect(pages: AsyncIterable<ListPage>): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of pages) keys.push(...page.objects.map((o) => o.key));
  return keys;
}

describe('key-space partitions', () => {
  it('compares keys in UTF-8 byte order', () => {
    const keys = ['a', 'a/', 'a.', 'a0', '\uFFFD', '\uE000', '\u{1F600}', 'é', '', 'ab'];
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    expect(compareKeys('\u{1F600}', '\uFFFD')).toBeGreaterThan(0); // '<' on UTF-16 says otherwise
  });

  it('cover every key under the prefix exactly once, in key order (200 generated key sets)', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = random(seed);
      const prefix = rand() < 0.5 ? 'in/' : '';
      const store = new MemoryListing(keySet(rand, prefix || 'x/'));
      const pageSize = 2 + Math.floor(rand() * 40);
      const target = 1 + Math.floor(rand() * 20);
      const expected = await collect(store.list(prefix, { pageSize }));

      const partitions = await planPartitions(store as unknown as ObjectStore, prefix, { target, concurrency: 4, pageSize });
      const listed: string[] = [];
      for (const partition of partitions) {
        for await (const objects of listPartition(store as unknown as ObjectStore, partition, pageSize)) listed.push(...objects.map((o) => o.key));
      }
      expect(listed, `seed ${seed}`).toEqual(expected);
    }
  });

  it('a partitioned listing gives the same keys as one listing, and resumes from any page without a gap or a repeat', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = random(seed * 7919);
      const store = new MemoryListing(keySet(rand, 'in/'));
      const pageSize = 3 + Math.floor(rand() * 20);
      const expected = await collect(store.list('in/', { pageSize }));
      const pages: ListPage[] = [];
      for await (const page of listSource(store as unknown as ObjectStore, 'in/', { pageSize, concurrency: 4 })) pages.push(page);
      expect(pages.flatMap((p) => p.objects.map((o) => o.key)), `seed ${seed}`).toEqual(expected);
      expect(pages.every((p) => p.objects.length <= pageSize)).toBe(true);
      expect(pages.at(-1)!.nextToken).toBeUndefined();

      // Stopped after page `cut`, resumed with 1 or 3 partitions at once.
      const cut = Math.floor(rand() * pages.length);
      const done = pages.slice(0, cut + 1).flatMap((p) => p.objects.map((o) => o.key));
      const token = pages[cut]!.nextToken;
      if (token === undefined) continue;
      for (const concurrency of [1, 3]) {
        const rest = await collect(listSource(store as unknown as ObjectStore, 'in/', { pageSize, concurrency, startToken: token }));
        expect([...done, ...rest], `seed ${seed}, resumed at page ${cut} with ${concurrency}`).toEqual(expected);
      }
    }
  });

  it('splits a flat folder into key ranges with few requests', async () => {
    const keys = Array.from({ length: 20000 }, (_, i) => `flat/img_${String(i).padStart(6, '0')}.jpg`);
    const store = new MemoryListing(keys);
    const partitions = await planPartitions(store as unknown as ObjectStore, 'flat/', { target: 16, concurrency: 8, pageSize: 1000 });
    expect(partitions.length).toBeGreaterThanOrEqual(8);
    expect(partitions.length).toBeLessThanOrEqual(17);
    expect(store.requests).toBeLessThan(250);
  });

  describe('a flat folder splits into ranges of comparable size (largest ≤ 2 × mean), with few requests', () => {
    const hex = (rand: () => number) => Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
    const rand = random(2026);
    const folders: Array<[string, () => string[]]> = [
      ['200,000 numbered names', () => Array.from({ length: 200_000 }, (_, i) => `flat/img_${String(i).padStart(6, '0')}.jpg`)],
      ['100,000 random hex names', () => Array.from({ length: 100_000 }, () => `flat/${hex(rand)}.jpg`)],
      ['50,000 numbered names in two series of different density', () => [
        ...Array.from({ length: 10_000 }, (_, i) => `flat/a_${String(i * 7).padStart(7, '0')}.png`),
        ...Array.from({ length: 40_000 }, (_, i) => `flat/b_${String(i).padStart(5, '0')}.png`),
      ]],
    ];
    for (const [what, keys] of folders) {
      it(what, async () => {
        const store = new MemoryListing(keys());
        const partitions = await planPartitions(store as unknown as ObjectStore, 'flat/', { target: 64, concurrency: 16, pageSize: 1000 });
        const planning = store.requests;
        const sizes: number[] = [];
        const listed: string[] = [];
        for (const partition of partitions) {
          const before = listed.length;
          for await (const objects of listPartition(store as unknown as ObjectStore, partition, 1000)) listed.push(...objects.map((o) => o.key));
          sizes.push(listed.length - before);
        }
        expect(listed.length).toBe(store.keys.length);
        expect(listed.every((key, i) => key === store.keys[i])).toBe(true);
        const mean = store.keys.length / partitions.length;
        expect(partitions.length).toBeGreaterThanOrEqual(32);
        expect(partitions.length).toBeLessThanOrEqual(64);
        expect(Math.max(...sizes), `sizes ${sizes.join(' ')}`).toBeLessThanOrEqual(2 * mean);
        expect(planning).toBeLessThanOrEqual(200);
      });
    }
  });

  it('splits a folder tree at its common prefixes', async () => {
    const keys = ['a/1.jpg', 'a/2.jpg', 'b/x/1.jpg', 'b/y/1.jpg', 'c.jpg', 'd/1.jpg'].map((k) => `tree/${k}`);
    const partitions = await planPartitions(new MemoryListing(keys) as unknown as ObjectStore, 'tree/', { target: 4, concurrency: 2 });
    // Consecutive ranges of the prefix, cut where each folder begins (tree/c.jpg lies between b/ and d/).
    expect(partitions).toEqual([
      { kind: 'range', prefix: 'tree/', upTo: 'tree/b/' },
      { kind: 'range', prefix: 'tree/', after: 'tree/b/', upTo: 'tree/d/' },
      { kind: 'range', prefix: 'tree/', after: 'tree/d/' },
    ]);
  });

  it('plans partitions whose descriptors stay a few KB with 1,000-byte keys (a state item holds 400 KB)', async () => {
    const long = (i: number) => `${String(i).padStart(4, '0')}-${'k'.repeat(990)}.jpg`;
    const keys = [...Array.from({ length: 1500 }, (_, i) => `in/${long(i)}`), ...Array.from({ length: 40 }, (_, f) => `in/d${f}/${long(f)}`)];
    const store = new MemoryListing(keys);
    for (const target of [1, 8, 64]) {
      const partitions = await planPartitions(store as unknown as ObjectStore, 'in/', { target, concurrency: 4 });
      for (const p of partitions) expect(Buffer.byteLength(describePartition(p))).toBeLessThanOrEqual(4 * 1024);
    }
  });

  it('covers every key exactly once with a store whose folder listings leave out folders that hold only folders (as s3rver does)', async () => {
    const keys = ['a/1.jpg', 'b/x/1.jpg', 'b/x/2.jpg', 'b/y/z/1.jpg', 'c.jpg', 'd/e/f/1.jpg', 'd/e/g/2.jpg', 'h/2.jpg'].map((k) => `tree/${k}`);
    const store = new MemoryListing(keys);
    // A folder is listed only when some key sits right in it.
    const sparse = {
      bucket: store.bucket,
      async *list(prefix: string, options: ListOptions = {}) {
        for await (const page of store.list(prefix, options)) {
          const shown = page.commonPrefixes?.filter((folder) => keys.some((k) => k.startsWith(folder) && !k.slice(folder.length).includes('/')));
          yield { ...page, ...(shown ? { commonPrefixes: shown } : {}) };
        }
      },
    };
    const folders = async (prefix: string) => (await collectPages(sparse.list(prefix, { delimiter: '/' }))).flatMap((p) => p.commonPrefixes ?? []);
    expect(await folders('tree/')).toEqual(['tree/a/', 'tree/h/']); // b/ and d/ left out
    const expected = await collect(store.list('tree/', { pageSize: 1000 }));
    for (const target of [2, 4, 8, 32]) {
      const partitions = await planPartitions(sparse as unknown as ObjectStore, 'tree/', { target, concurrency: 2 });
      const listed: string[] = [];
      for (const partition of partitions) {
        for await (const objects of listPartition(sparse as unknown as ObjectStore, partition, 1000)) listed.push(...objects.map((o) => o.key));
      }
      expect(listed, `target ${target}`).toEqual(expected);
    }
  });

  it('cuts a folder of many small folders into about `target` ranges of consecutive folders, covering every key exactly once', async () => {
    const keys: string[] = [];
    for (let f = 0; f < 600; f++) {
      const folder = `cams/f${String(f).padStart(4, '0')}/`;
      if (f % 7 === 0) keys.push(folder); // a folder marker object
      if (f % 50 === 0) keys.push(`cams/f${String(f).padStart(4, '0')}.txt`, `cams/f${String(f).padStart(4, '0')}.jpg`); // objects between folders
      for (let i = 0; i < 3; i++) keys.push(`${folder}img_${i}.jpg`);
    }
    const store = new MemoryListing(keys);
    const expected = await collect(store.list('cams/', { pageSize: 1000 }));
    for (const target of [1, 4, 16, 64]) {
      const partitions = await planPartitions(store as unknown as ObjectStore, 'cams/', { target, concurrency: 4, pageSize: 1000 });
      expect(partitions.length, `target ${target}`).toBeLessThanOrEqual(Math.max(2, target));
      expect(partitions.length, `target ${target}`).toBeGreaterThanOrEqual(Math.min(target, 2));
      const listed: string[] = [];
      for (const partition of partitions) {
        for await (const objects of listPartition(store as unknown as ObjectStore, partition, 1000)) listed.push(...objects.map((o) => o.key));
      }
      expect(listed, `target ${target}`).toEqual(expected);
    }
  });

  it('merges sources in their order whatever their speed, with at most `concurrency` running', async () => {
    let running = 0;
    let most = 0;
    const source = (id: number, delays: number[]) => async function* () {
      running++;
      most = Math.max(most, running);
      try {
        for (const [i, ms] of delays.entries()) {
          await new Promise((r) => setTimeout(r, ms));
          yield `${id}.${i}`;
        }
      } finally {
        running--;
      }
    };
    const rand = random(42);
    const sources = Array.from({ length: 9 }, (_, id) => source(id, Array.from({ length: 1 + Math.floor(rand() * 4) }, () => Math.floor(rand() * 6))));
    const out: string[] = [];
    for await (const item of orderedMerge(sources, 3)) out.push(item);
    const expected = out.map((x) => x).sort((a, b) => Number(a.split('.')[0]) - Number(b.split('.')[0]) || Number(a.split('.')[1]) - Number(b.split('.')[1]));
    expect(out).toEqual(expected);
    expect(new Set(out.map((x) => x.split('.')[0]))).toEqual(new Set(sources.map((_, i) => String(i))));
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  });

  it('a failing source ends the merge with its error, and the other sources stop', async () => {
    let stopped = 0;
    const endless = async function* () {
      try {
        for (let i = 0; i < 1000; i++) yield i;
      } finally {
        stopped++;
      }
    };
    const failing = async function* () {
      yield 1;
      throw new Error('ListObjectsV2 refused');
    };
    const out: number[] = [];
    await expect(async () => {
      for await (const item of orderedMerge([failing, endless, endless], 3)) out.push(item);
    }).rejects.toThrow('ListObjectsV2 refused');
    await new Promise((r) => setTimeout(r, 10));
    expect(out).toEqual([1]);
    expect(stopped).toBe(2);
  });
});
