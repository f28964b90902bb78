import { isMediaKey, MAX_IMAGE_BYTES, type MediaKind } from '../media';
import type { ObjectStore, StoredObject } from '../storage/port';

export type SkipReason = 'not-media' | 'too-large' | 'bridge-output' | 'empty' | 'already-submitted';

export type Discovered = { accepted: StoredObject } | { skipped: StoredObject; reason: SkipReason };

export interface DiscoverOptions {
  prefix: string;
  media: MediaKind;
  /** Prefixes the bridge writes to (manifests, results) in this bucket; never fed back in. */
  excludePrefixes: string[];
  pageSize?: number;
  maxImageBytes?: number;
  /** Returns true for objects a previous run already submitted. */
  alreadySubmitted?: (object: StoredObject) => boolean | Promise<boolean>;
}

/**
 * Streams the objects under a prefix and sorts each into accepted or skipped (with a reason).
 * Only one listing page is held at a time; a listing error propagates so a run never goes on
 * with a silently shorter listing.
 */
export async function* discover(store: ObjectStore, options: DiscoverOptions): AsyncGenerator<Discovered[]> {
  const maxImageBytes = options.maxImageBytes ?? MAX_IMAGE_BYTES;
  for await (const page of store.list(options.prefix, { pageSize: options.pageSize })) {
    const sorted: Discovered[] = [];
    for (const object of page) sorted.push(await classify(object));
    yield sorted;
  }

  async function classify(object: StoredObject): Promise<Discovered> {
    if (options.excludePrefixes.some((p) => p !== '' && object.key.startsWith(p))) {
      return { skipped: object, reason: 'bridge-output' };
    }
    if (object.key.endsWith('/')) return { skipped: object, reason: 'empty' };
    if (!isMediaKey(object.key, options.media)) return { skipped: object, reason: 'not-media' };
    if (object.size === 0) return { skipped: object, reason: 'empty' };
    if (options.media === 'images' && object.size > maxImageBytes) return { skipped: object, reason: 'too-large' };
    if (options.alreadySubmitted && (await options.alreadySubmitted(object))) {
      return { skipped: object, reason: 'already-submitted' };
    }
    return { accepted: object };
  }
}
