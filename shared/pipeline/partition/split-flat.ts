import { mapLimit } from '../../concurrency';
import type { ObjectStore } from '../../storage/port';
import { compareKeys } from './key-order';
import type { Partition } from './partition';

/** Characters tried as the next one of a key when looking for split points (common in keys). */
const PROBE_CHARACTERS = '-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
/** Key positions tried, from the one where the first page's keys differ back towards the prefix. */
const PROBE_POSITIONS = 8;
/** Rounds splitting the open-ended tail again. */
const REFINE_ROUNDS = 2;

/**
 * Splits the keys under a flat `prefix` (too many for one listing page) into ranges without
 * listing them all. The first page is read (its objects are the first partition); candidate
 * bounds are the last key read with one character raised at the positions where keys vary
 * (`img_000999` → `img_001`, `img_002`, …, `img_01`, …), probed with one-key listings after
 * them; the open-ended tail is split again the same way from its first key. Candidates with
 * nothing between them are merged, so every range but the last holds
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

  // Candidates are probed in order, skipping those below the key the last probe found (nothing
  // lies between): about one probe per range that holds keys.
  const nextKey = new Map<string, string | undefined>([[last, await firstKeyAfter(store, prefix, last)]]);
  const probeInOrder = async (candidates: string[], from: string) => {
    let found = nextKey.get(from);
    for (const bound of candidates) {
      if (found === undefined) break;
      if (compareKeys(bound, found) >= 0) nextKey.set(bound, (found = await firstKeyAfter(store, prefix, bound)));
    }
  };
  await mapLimit(candidatePositions(prefix, first, last), options.concurrency, (candidates) => probeInOrder(candidates, last));
  let bounds = nonEmptyBounds(last, nextKey);
  // The open-ended tail holds whatever lies past the coarsest bound found (often most keys): it
  // is split again at the positions after the bound, from its first key (`img_01` → `img_011`, …).
  for (let round = 0; round < REFINE_ROUNDS; round++) {
    const tail = bounds.at(-1)!;
    const first = nextKey.get(tail);
    if (first === undefined) break;
    let from = 0;
    while (from < Math.min(tail.length, first.length) && tail[from] === first[from]) from++;
    const positions = [from, from + 1].filter((q) => q > prefix.length && q < first.length);
    await mapLimit(positions, options.concurrency, (q) =>
      probeInOrder([...PROBE_CHARACTERS].filter((c) => compareKeys(c, first[q]!) > 0).map((c) => first.slice(0, q) + c), tail),
    );
    const before = bounds.length;
    bounds = nonEmptyBounds(last, nextKey);
    if (bounds.length === before) break;
  }
  const kept = coarsest(bounds, Math.max(1, options.pieces - 1));

  const parts: Partition[] = [{ kind: 'objects', objects: page.objects }];
  kept.forEach((after, i) => parts.push({ kind: 'range', prefix, after, ...(i + 1 < kept.length ? { upTo: kept[i + 1] } : {}) }));
  return parts;
}

/**
 * `last` and the probed candidates, sorted, keeping a bound only when the range it closes holds a
 * key; the open-ended tail must hold one too.
 */
function nonEmptyBounds(last: string, nextKey: Map<string, string | undefined>): string[] {
  const bounds = [last];
  for (const bound of [...nextKey.keys()].filter((b) => b !== last).sort(compareKeys)) {
    const next = nextKey.get(bounds.at(-1)!);
    if (next !== undefined && compareKeys(next, bound) <= 0) bounds.push(bound);
  }
  if (nextKey.get(bounds.at(-1)!) === undefined && bounds.length > 1) bounds.pop();
  return bounds;
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

/**
 * At most `count` bounds, the first always kept: the longest (finest) go first, merging their
 * ranges with the next, so the ranges left are of about one size (`img_001…` ranges go before
 * `img_01…` ones).
 */
function coarsest(bounds: string[], count: number): string[] {
  const kept = [...bounds];
  while (kept.length > count) {
    let finest = 1;
    for (let i = 2; i < kept.length; i++) if (kept[i]!.length > kept[finest]!.length) finest = i;
    kept.splice(finest, 1);
  }
  return kept;
}

/** The first page of a listing (the rest is not requested). */
export async function firstPage<T>(pages: AsyncIterable<T>): Promise<T> {
  for await (const page of pages) return page;
  throw new Error('a listing answered no page');
}
