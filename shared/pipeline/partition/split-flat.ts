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
 * (`img_000999` → `img_001`, `img_002`, …, `img_01`, …), each probed with a one-key listing
 * after it. Candidates with nothing between them are merged, so every range but the last holds
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

  const candidates = candidateBounds(prefix, first, last);
  const firstAfter = await mapLimit(candidates, options.concurrency, (bound) => firstKeyAfter(store, prefix, bound));
  const nextKey = new Map([[last, await firstKeyAfter(store, prefix, last)], ...candidates.map((c, i) => [c, firstAfter[i]] as const)]);

  // Keep a bound only when the range it closes holds a key; the open-ended tail must too.
  const bounds = [last];
  for (const bound of candidates) {
    const next = nextKey.get(bounds.at(-1)!);
    if (next !== undefined && compareKeys(next, bound) <= 0) bounds.push(bound);
  }
  if (nextKey.get(bounds.at(-1)!) === undefined && bounds.length > 1) bounds.pop();
  const kept = evenly(bounds, Math.max(1, options.pieces - 1));

  const parts: Partition[] = [{ kind: 'objects', objects: page.objects }];
  kept.forEach((after, i) => parts.push({ kind: 'range', prefix, after, ...(i + 1 < kept.length ? { upTo: kept[i + 1] } : {}) }));
  return parts;
}

/** Sorted, distinct strings above `last` that share its head up to a raised character. */
function candidateBounds(prefix: string, first: string, last: string): string[] {
  let differ = prefix.length;
  while (differ < Math.min(first.length, last.length) - 1 && first[differ] === last[differ]) differ++;
  const found = new Set<string>();
  for (let position = differ; position >= prefix.length && position > differ - PROBE_POSITIONS; position--) {
    const head = last.slice(0, position);
    for (const c of PROBE_CHARACTERS) if (compareKeys(c, last[position] ?? '') > 0) found.add(head + c);
  }
  return [...found].sort(compareKeys);
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
