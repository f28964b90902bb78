import { isMediaKey, type MediaKind } from '../media';
import type { ListPage, StoredObject } from '../storage/port';

export type SkipReason = 'not-media' | 'too-large' | 'bridge-output' | 'empty' | 'already-submitted';

export type Discovered = { accepted: StoredObject } | { skipped: StoredObject; reason: SkipReason };

export interface DiscoveredPage {
  items: Discovered[];
  /** Where the listing resumes after this page; undefined after the last page. */
  nextToken?: string;
}

export interface DiscoverOptions {
  media: MediaKind;
  /** Prefixes the bridge writes to (manifests, results) in this bucket; never fed back in. */
  excludePrefixes: string[];
  /** Objects larger than this are skipped as `too-large` (the target's own limit). */
  maxBytes?: number;
  /** Keys of the given objects (same key and ETag) that an earlier run already submitted. */
  alreadySubmitted?: (objects: StoredObject[]) => Promise<ReadonlySet<string>>;
}

/**
 * Sorts each listed object into accepted or skipped (with a reason), a page at a time: only one
 * listing page is held in memory, and a listing error propagates, so a run never goes on with a
 * silently shorter listing.
 */
export async function* discover(listing: AsyncIterable<ListPage>, options: DiscoverOptions): AsyncGenerator<DiscoveredPage> {
  for await (const page of listing) {
    const items = page.objects.map((object) => classify(object, options));
    const candidates = items.flatMap((item) => ('accepted' in item ? [item.accepted] : []));
    if (options.alreadySubmitted && candidates.length > 0) {
      const submitted = await options.alreadySubmitted(candidates);
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if ('accepted' in item && submitted.has(item.accepted.key)) items[i] = { skipped: item.accepted, reason: 'already-submitted' };
      }
    }
    yield { items, nextToken: page.nextToken };
  }
}

function classify(object: StoredObject, options: DiscoverOptions): Discovered {
  if (options.excludePrefixes.some((p) => p !== '' && object.key.startsWith(p))) return { skipped: object, reason: 'bridge-output' };
  if (object.key.endsWith('/')) return { skipped: object, reason: 'empty' };
  if (!isMediaKey(object.key, options.media)) return { skipped: object, reason: 'not-media' };
  if (object.size === 0) return { skipped: object, reason: 'empty' };
  if (options.maxBytes !== undefined && object.size > options.maxBytes) return { skipped: object, reason: 'too-large' };
  return { accepted: object };
}
