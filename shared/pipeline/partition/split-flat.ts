import { mapLimit } from '../../concurrency';
import type { ObjectStore } from '../../storage/port';
import { KeyEstimate, type Sample } from './key-density';
import { compareKeys } from './key-order';
import { KeySpace } from './key-space';
import type { Partition } from './partition';

/** Characters common in keys, added at every position while exploring how far a folder reaches. */
const PROBE_CHARACTERS = '-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
/** Keys read per sampling request: enough to see the local density, still one small request. */
const SAMPLE_KEYS = 100;
/** Exploring probes at doubling distances at most (this reaches far), and evenly spaced ones. */
const MAX_DOUBLING = 40;
const EVEN_EXPLORE = 16;
/** Rounds of sampling inside the gaps estimated to hold the most keys, and probes per round. */
const REFINE_ROUNDS = 2;
const MAX_REFINE = 64;

/**
 * Splits the keys under a flat `prefix` (too many for one listing page) into `pieces` partitions
 * of about the same size without listing them all. The first page is read (its objects are the
 * first partition); then keys are sampled with short listings after chosen points (`StartAfter`,
 * GCS `startOffset`), all points of a round at once:
 * 1. explore: points at doubling distances past the first page and evenly spaced ones, in a key
 *    space made of the characters seen and those common in keys (see key-space.ts), find how far
 *    the folder reaches and which characters its keys use at each position;
 * 2. refine (twice): in the key space of the characters seen, the gaps between samples estimated
 *    to hold the most keys (see key-density.ts) are sampled inside, about once per range's share.
 * The bounds are then cut at the estimated quantiles of the key count. They only balance the
 * ranges: consecutive ranges share a bound, so they cover the prefix exactly whatever bounds are
 * chosen, and the last range is open-ended.
 */
export async function splitFlatPrefix(
  store: ObjectStore,
  prefix: string,
  options: { pageSize: number; pieces: number; concurrency: number },
): Promise<Partition[]> {
  const page = await firstPage(store.list(prefix, { pageSize: options.pageSize }));
  const last = page.objects.at(-1)?.key;
  if (page.nextToken === undefined || last === undefined) return [{ kind: 'range', prefix }];
  const samples: Sample[] = [{ after: prefix, keys: page.objects.map((o) => o.key), complete: false }];
  const sample = async (points: string[]) => {
    const fresh = points.filter((p) => compareKeys(p, last) > 0);
    samples.push(...(await mapLimit(fresh, options.concurrency, (after) => sampleAfter(store, prefix, after))));
  };
  const learnt = () => new KeySpace(prefix, samples.flatMap((s) => s.keys));
  const ranges = Math.max(1, options.pieces - 1);

  await sample(explorePoints(new KeySpace(prefix, samples[0]!.keys, PROBE_CHARACTERS), page.objects[0]!.key, last));
  for (let round = 0; round < REFINE_ROUNDS; round++) {
    const points = new KeyEstimate(learnt(), samples, last).probes(ranges, Math.min(MAX_REFINE, 2 * ranges));
    if (points.length === 0) break;
    await sample(points);
  }
  const bounds = new KeyEstimate(learnt(), samples, last).bounds(ranges);
  const parts: Partition[] = [{ kind: 'objects', objects: page.objects }];
  [last, ...bounds].forEach((after, i, all) => parts.push({ kind: 'range', prefix, after, ...(i + 1 < all.length ? { upTo: all[i + 1] } : {}) }));
  return parts;
}

/** Points past the first page at 1, 2, 4, … times its width, and evenly spaced ones, up to the end of the space. */
function explorePoints(space: KeySpace, first: string, last: string): string[] {
  const from = space.valueOf(last);
  const width = Math.max(1, from - space.valueOf(first));
  const points: string[] = [];
  for (let distance = width; from + distance < space.size && points.length < MAX_DOUBLING; distance *= 2) points.push(space.keyAt(from + distance));
  for (let i = 1; i <= EVEN_EXPLORE; i++) points.push(space.keyAt(from + ((space.size - from) * i) / (EVEN_EXPLORE + 1)));
  return [...new Set(points)];
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
