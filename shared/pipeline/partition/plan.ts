import { mapLimit } from '../../concurrency';
import type { ObjectStore, StoredObject } from '../../storage/port';
import { compareKeys } from './key-order';
import type { Partition } from './partition';
import { firstPage, splitFlatPrefix } from './split-flat';

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
 * ranges of consecutive subfolders instead (see groupFolders): a thousand small folders would
 * otherwise be a thousand invocations, references files and ingest requests.
 */
const GROUP_FACTOR = 2;

type Planned = Partition & { settled?: boolean };

/**
 * Splits the keys under `prefix` into partitions covering them exactly, in listing order.
 * Level by level, a prefix is read with one delimiter listing page: when that page holds all of
 * it, its objects become a partition (already read) and each common prefix a partition of its own,
 * expanded again while there are at most half the `target`; a prefix with more entries than one page
 * (a flat or very wide folder) is split by key ranges instead (see split-flat.ts), and one with
 * many more subfolders than its share of the target is cut into ranges of consecutive subfolders.
 */
export async function planPartitions(store: ObjectStore, prefix: string, options: PlanOptions): Promise<Partition[]> {
  const pageSize = options.pageSize ?? 1000;
  const delimiter = options.delimiter ?? '/';
  let parts: Planned[] = [{ kind: 'range', prefix }];
  // A level is expanded only while it would not overshoot the target more than twice over:
  // expanding costs listing requests, and half the target already keeps every slot busy.
  for (let depth = 0; depth < MAX_DEPTH && parts.length * 2 <= options.target; depth++) {
    const open = parts.filter((p) => p.kind === 'range' && !p.settled && p.after === undefined && p.upTo === undefined);
    if (open.length === 0) break;
    const room = Math.max(2, Math.ceil(options.target / parts.length));
    const expanded = await mapLimit(open, options.concurrency, (p) =>
      expandPrefix(store, (p as { prefix: string }).prefix, { pageSize, delimiter, pieces: room, concurrency: options.concurrency }),
    );
    const replacements = new Map(open.map((p, i) => [p, expanded[i]!]));
    parts = parts.flatMap((p) => replacements.get(p) ?? [p]);
  }
  return parts.map(({ settled: _settled, ...p }) => p as Partition);
}

async function expandPrefix(
  store: ObjectStore,
  prefix: string,
  options: { pageSize: number; delimiter: string; pieces: number; concurrency: number },
): Promise<Planned[]> {
  const page = await firstPage(store.list(prefix, { pageSize: options.pageSize, delimiter: options.delimiter }));
  if (page.nextToken !== undefined) {
    const ranges: Planned[] = await splitFlatPrefix(store, prefix, options);
    return ranges.map((r) => ({ ...r, settled: true }));
  }
  const entries: Array<{ key: string; object?: StoredObject }> = [
    ...page.objects.map((object) => ({ key: object.key, object })),
    ...(page.commonPrefixes ?? []).map((key) => ({ key })),
  ].sort((a, b) => compareKeys(a.key, b.key));
  const folders = entries.length - page.objects.length;
  if (folders > GROUP_FACTOR * options.pieces) return groupFolders(prefix, entries, options.pieces);
  const parts: Planned[] = [];
  for (const entry of entries) {
    if (!entry.object) {
      parts.push({ kind: 'range', prefix: entry.key });
      continue;
    }
    const last = parts.at(-1);
    if (last?.kind === 'objects') last.objects.push(entry.object);
    else parts.push({ kind: 'objects', objects: [entry.object] });
  }
  // An empty prefix still needs a partition: keys may appear before it is listed.
  return parts.length > 0 ? parts : [{ kind: 'range', prefix, settled: true }];
}

/**
 * The entries of a folder (its objects and subfolders, in key order) as about `pieces` ranges of
 * the folder, each holding the same number of subfolders with the objects between them. A range
 * ends at the next range's first subfolder, inclusive: an object named exactly like that subfolder
 * (a folder marker) falls in the range that ends there, every key below it in the next one; the
 * ranges share their bounds, so they cover the folder exactly.
 */
function groupFolders(prefix: string, entries: Array<{ key: string; object?: StoredObject }>, pieces: number): Planned[] {
  const perRange = Math.ceil(entries.filter((e) => !e.object).length / pieces);
  const ranges: Planned[] = [];
  let after: string | undefined;
  let held = 0;
  for (const entry of entries) {
    if (entry.object) continue;
    if (held === perRange) {
      ranges.push({ kind: 'range', prefix, ...(after === undefined ? {} : { after }), upTo: entry.key, settled: true });
      after = entry.key;
      held = 0;
    }
    held++;
  }
  ranges.push({ kind: 'range', prefix, ...(after === undefined ? {} : { after }), settled: true });
  return ranges;
}
