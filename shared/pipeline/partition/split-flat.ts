import { mapLimit } from '../../concurrency';
import type { ObjectStore } from '../../storage/port';
import { compareKeys } from './key-order';
import type { Partition } from './partition';

/** Characters tried as the next one of a key when looking for split points (common in keys). */
const PROBE_CHARACTERS = '-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
/** Key positions tried, from the one where the first page's keys differ back towards the prefix. */
const PROBE_POSITIONS = 3;

/**
 * Splits the keys under a flat `prefix` (too many for one listing page) into ranges without
 * listing them all. The first page is read (its objects are the first partition); candidate
 * bounds are the last key read with one character raised at the positions where keys vary
 * (`img_000999` → `img_001`, `img_002`, …, `img_01`, …), probed with one-key listings after
 * them. Candidates with nothing between them are merged, so every range but the last holds
 * a key when planned. The bounds only balance the ranges: consecutive ranges share a bound, so
 * they cover the prefix exactly whatever bounds are chosen, and the last range is open-ended.
 */
export async function splitFlatPrefix(
  store: ObjectStore,
  prefix: string,
  options: { pageSize: number; pieces: number; concurrency: number },
): Promise<Partition[]> {
  const page = await firstPage(store.list(prefix, { pageSize: options.pageSize }));
  const last = page.objects.at(-1)?.key;
  if (page.nextToken === undefined || last === undefined) return [{ kind: 'range', prefix }];
  const first = page.objects[0]!.key;

  // Per position, candidates are probed in order, skipping those below the key the last probe
  // found (nothing lies between): about one probe per range that holds keys.
  const nextKey = new Map<string, string | undefined>([[last, await firstKeyAfter(store, prefix, last)]]);
  await mapLimit(candidatePositions(prefix, first, last), options.concurrency, async (candidates) => {
    let found: string | undefined = nextKey.get(last);
    for (const bound of candidates) {
      if (found === undefined) break;
      if (compareKeys(bound, found) >= 0) nextKey.set(bound, (found = await firstKeyAfter(store, prefix, bound)));
    }
  });
  const probed = [...nextKey.keys()].filter((b) => b !== last).sort(compareKeys);

  // Keep a bound only when the range it closes holds a key; the open-ended tail must too.
  const bounds = [last];
  for (const bound of probed) {
    const next = nextKey.get(bounds.at(-1)!);
    if (next !== undefined && compareKeys(next, bound) <= 0) bounds.push(bound);
  }
  if (nextKey.get(bounds.at(-1)!) === undefined && bounds.length > 1) bounds.pop();
  const kept = evenly(bounds, Math.max(1, options.pieces - 1));

  const parts: Partition[] = [{ kind: 'objects', objects: page.objects }];
  kept.forEach((after, i) => parts.push({ kind: 'range', prefix, after, ...(i + 1 < kept.length ? { upTo: kept[i + 1] } : {}) }));
  return parts;
}

/** Per key position, the strings above `last` sharing its head up to a raised character, in order. */
function candidatePositions(prefix: string, first: string, last: string): string[][] {
  let differ = prefix.length;
  while (differ < Math.min(first.length, last.length) - 1 && first[differ] === last[differ]) differ++;
  const positions: string[][] = [];
  for (let position = differ; position >= prefix.length && position > differ - PROBE_POSITIONS; position--) {
    const head = last.slice(0, position);
    positions.push([...PROBE_CHARACTERS].filter((c) => compareKeys(c, last[position] ?? '') > 0).map((c) => head + c));
  }
  return positions;
}

async function firstKeyAfter(store: ObjectStore, prefix: string, after: string): Promise<string | undefined> {
  const page = await firstPage(store.list(prefix, { pageSize: 1, startAfter: after }));
  return page.objects[0]?.key;
}

/** At most `count` of `items`, the first always kept, the rest spread evenly. */
function evenly<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/** The first page of a listing (the rest is not requested). */
export async function firstPage<T>(pages: AsyncIterable<T>): Promise<T> {
  for await (const page of pages) return page;
  throw new Error('a listing answered no page');
}
