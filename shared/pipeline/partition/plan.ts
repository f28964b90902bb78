import { mapLimit } from '../../concurrency';
import type { ObjectStore } from '../../storage/port';
import { compareKeys } from './key-order';
import type { Partition } from './partition';
import { firstPage, flatCuts } from './split-flat';

export interface PlanOptions {
  /** How many partitions to aim for; fewer when the key space has less structure or fewer keys. */
  target: number;
  /** Listing requests at once while planning. */
  concurrency: number;
  /** Entries per planning listing request (a prefix with more is split by key ranges). @default 1000 */
  pageSize?: number;
  /** Folder separator for common prefixes. @default '/' */
  delimiter?: string;
}

/** How many folder levels planning descends at most. */
const MAX_DEPTH = 6;
/**
 * A folder whose subfolders outnumber its share of the partitions this many times over is cut into
 * ranges of consecutive subfolders: a thousand small folders would otherwise be a thousand
 * invocations, references files and ingest requests.
 */
const GROUP_FACTOR = 2;

/**
 * A planned key range of the source prefix: the keys after `after` up to `upTo` (inclusive), either
 * bound open when unset. `folder`: the one folder the range was cut around, while it may be cut
 * further at that folder's own subfolders.
 */
interface Planned {
  after?: string;
  upTo?: string;
  folder?: string;
}

/**
 * Splits the keys under `prefix` into consecutive key ranges that share their bounds, so they
 * cover every key under it exactly once, whatever the store's folder listings leave out (a
 * listing with a delimiter only chooses where to cut; some S3-compatible stores omit a folder
 * that holds only folders, and folders may appear while planning goes on). Level by level, a
 * range's folder is read with one delimiter listing page: when that page holds all of it, the
 * range is cut at its subfolders, one range each (expanded again while there are at most half
 * the `target`) or, with many more than its share of the target, several consecutive subfolders
 * each; a folder with more entries than one page (flat or very wide) is cut by key ranges of about
 * the same size instead (see split-flat.ts).
 */
export async function planPartitions(store: ObjectStore, prefix: string, options: PlanOptions): Promise<Partition[]> {
  const pageSize = options.pageSize ?? 1000;
  const delimiter = options.delimiter ?? '/';
  let parts: Planned[] = [{ folder: prefix }];
  // A level is expanded only while it would not overshoot the target more than twice over:
  // expanding costs listing requests, and half the target already keeps every slot busy.
  for (let depth = 0; depth < MAX_DEPTH && parts.length * 2 <= options.target; depth++) {
    const open = parts.filter((p) => p.folder !== undefined);
    if (open.length === 0) break;
    const room = Math.max(2, Math.ceil(options.target / parts.length));
    const cut = await mapLimit(open, options.concurrency, (p) => cutAtSubfolders(store, p, { pageSize, delimiter, pieces: room, concurrency: options.concurrency }));
    const replacements = new Map(open.map((p, i) => [p, cut[i]!]));
    parts = parts.flatMap((p) => replacements.get(p) ?? [p]);
  }
  return parts.map(({ after, upTo }) => ({ kind: 'range', prefix, ...(after === undefined ? {} : { after }), ...(upTo === undefined ? {} : { upTo }) }));
}

async function cutAtSubfolders(
  store: ObjectStore,
  part: Planned,
  options: { pageSize: number; delimiter: string; pieces: number; concurrency: number },
): Promise<Planned[]> {
  const folder = part.folder!;
  const page = await firstPage(store.list(folder, { pageSize: options.pageSize, delimiter: options.delimiter }));
  if (page.nextToken !== undefined) return between(part, await flatCuts(store, folder, options));
  const subfolders = [...(page.commonPrefixes ?? [])].sort(compareKeys);
  if (subfolders.length === 0) return [{ after: part.after, upTo: part.upTo }];
  const perRange = subfolders.length > GROUP_FACTOR * options.pieces ? Math.ceil(subfolders.length / options.pieces) : 1;
  // A range ends at the next range's first subfolder, inclusive: an object named exactly like that
  // subfolder (a folder marker) falls in the range that ends there, every key below it in the next.
  const ranges = between(
    part,
    subfolders.filter((_, i) => i > 0 && i % perRange === 0),
  );
  return perRange === 1 ? ranges.map((r, i) => ({ ...r, folder: subfolders[i] })) : ranges;
}

/** The range `part` cut at `cuts` (keys in ascending order within it): consecutive ranges sharing each cut as a bound. */
function between(part: Planned, cuts: string[]): Planned[] {
  const bounds = [part.after, ...cuts, part.upTo];
  return bounds.slice(1).map((upTo, i) => ({ after: bounds[i], upTo }));
}
