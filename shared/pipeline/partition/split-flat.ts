import { mapLimit } from '../../concurrency';
import type { ObjectStore } from '../../storage/port';
import { KeyEstimate, type Sample } from './key-density';
import { compareKeys } from './key-order';
import { KeySpace } from './key-space';

/** Characters common in keys, added at every position while exploring how far a folder reaches. */
const PROBE_CHARACTERS = '-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
/** Keys read per sampling request: enough to see the local density, still one small request. */
const SAMPLE_KEYS = 100;
/** Exploring probes, evenly spaced over the space of characters common in keys (fewer when fewer run at once). */
const EXPLORE_POINTS = 16;
/** Rounds narrowing down where the keys end, at most, and points per round (fewer when fewer run at once). */
const END_ROUNDS = 6;
const END_POINTS = 15;
/** Rounds of sampling inside the gaps estimated to hold the most keys, and probes per round at most. */
const REFINE_ROUNDS = 2;
const MAX_REFINE = 32;
/** Refining probes of a round per listing request at once, at most (the other rounds take one request each). */
const REFINE_PER_SLOT = 2;

/**
 * Where to cut the keys under a flat `prefix` (too many for one listing page) into `pieces` ranges
 * of about the same size without listing them all, in ascending order (none when one page holds
 * them all). The first page is read (its last key is the first cut); then keys are sampled with short listings after chosen points (`StartAfter`,
 * GCS `startOffset`), all points of a round at once:
 * 1. explore: points evenly spaced past the first page, in a key space made of the characters
 *    seen and those common in keys (see key-space.ts), find roughly how far the folder reaches
 *    and which characters its keys use at each position;
 * 2. end: in the key space of the characters seen, points between the greatest key found and the
 *    least point found with nothing after it narrow down where the keys end (a few points a
 *    round, until that is known to within a fraction of a range);
 * 3. refine (twice): in the key space of the characters seen, the gaps between samples estimated
 *    to hold the most keys (see key-density.ts) are sampled inside, about once per range's share.
 * The other cuts are the estimated quantiles of the key count. They only balance the ranges:
 * ranges that share their cuts as bounds cover the prefix exactly whatever cuts are chosen.
 */
export async function flatCuts(store: ObjectStore, prefix: string, options: { pageSize: number; pieces: number; concurrency: number }): Promise<string[]> {
  const page = await firstPage(store.list(prefix, { pageSize: options.pageSize }));
  const last = page.objects.at(-1)?.key;
  if (page.nextToken === undefined || last === undefined) return [];
  const samples: Sample[] = [{ after: prefix, keys: page.objects.map((o) => o.key), complete: false }];
  const sample = async (points: string[]) => {
    const fresh = points.filter((p) => compareKeys(p, last) > 0);
    samples.push(...(await mapLimit(fresh, options.concurrency, (after) => sampleAfter(store, prefix, after))));
  };
  const learnt = () => new KeySpace(prefix, samples.flatMap((s) => s.keys));
  const ranges = Math.max(1, options.pieces - 1);
  // One range after the first page needs no other cut.
  if (ranges === 1) return [last];
  // Rounds of one request at once per listing slot (refining: a couple), so they cost a few waits, not dozens.
  const slots = Math.max(4, options.concurrency);

  await sample(explorePoints(new KeySpace(prefix, samples[0]!.keys, PROBE_CHARACTERS), last, Math.min(EXPLORE_POINTS, slots)));
  for (let round = 0; round < END_ROUNDS; round++) {
    const points = endPoints(learnt(), samples, page.objects[0]!.key, ranges, Math.min(END_POINTS, slots - 1));
    if (points.length === 0) break;
    await sample(points);
  }
  for (let round = 0; round < REFINE_ROUNDS; round++) {
    const points = new KeyEstimate(learnt(), samples, last).probes(ranges, Math.min(MAX_REFINE, 2 * ranges, REFINE_PER_SLOT * slots));
    if (points.length === 0) break;
    await sample(points);
  }
  return [last, ...new KeyEstimate(learnt(), samples, last).bounds(ranges)];
}

/** `count` points evenly spaced past the first page, up to the end of the space. */
function explorePoints(space: KeySpace, last: string, count: number): string[] {
  const from = space.valueOf(last);
  return [...new Set(Array.from({ length: count }, (_, i) => space.keyAt(from + ((space.size - from) * (i + 1)) / (count + 1))))];
}

/**
 * Points evenly spaced between the greatest key sampled and the least point found with nothing
 * after it, while that bracket is wider than a quarter of a range's share of the keys (as if they
 * were spread evenly from the first key on); none once a listing ended on a key.
 */
function endPoints(space: KeySpace, samples: Sample[], first: string, ranges: number, count: number): string[] {
  let greatest = 0;
  let end = space.size;
  for (const s of samples) {
    if (s.keys.length > 0) greatest = Math.max(greatest, space.valueOf(s.keys.at(-1)!));
    if (!s.complete) continue;
    if (s.keys.length > 0) return [];
    end = Math.min(end, space.valueOf(s.after));
  }
  if ((end - greatest) * 4 * ranges <= greatest - space.valueOf(first)) return [];
  return Array.from({ length: count }, (_, i) => space.keyAt(greatest + ((end - greatest) * (i + 1)) / (count + 1)));
}

async function sampleAfter(store: ObjectStore, prefix: string, after: string): Promise<Sample> {
  const page = await firstPage(store.list(prefix, { pageSize: SAMPLE_KEYS, startAfter: after }));
  return { after, keys: page.objects.map((o) => o.key), complete: page.nextToken === undefined };
}

/** The first page of a listing (the rest is not requested). */
export async function firstPage<T>(pages: AsyncIterable<T>): Promise<T> {
  for await (const page of pages) return page;
  throw new Error('a listing answered no page');
}
