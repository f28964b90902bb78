import type { StoredObject } from '../../storage/port';
import type { InventoryPartition } from './inventory';
import { compareKeys } from './key-order';

/**
 * A part of a run's source; the first two kinds are contiguous parts of a prefix's key space, in listing order:
 * - `range`: the keys under `prefix` after `after` (exclusive) up to `upTo` (inclusive), either
 *   bound open when unset; a common prefix is a range without bounds;
 * - `objects`: a fixed list of objects, listed no more (the empty list marks a partition with
 *   nothing left; plans of earlier versions, and what is left of them, hold others);
 * - `inventory`: one data file of an S3 Inventory report (see inventory.ts), not in key order.
 * Ranges take any strings as bounds, so consecutive ranges sharing a bound cover their keys exactly.
 */
export type Partition =
  | { kind: 'range'; prefix: string; after?: string; upTo?: string }
  | { kind: 'objects'; objects: StoredObject[] }
  | InventoryPartition;

/** Whether `key` (a key under the range's prefix) falls within the range's bounds. */
export function withinBounds(range: { after?: string; upTo?: string }, key: string): boolean {
  return (range.after === undefined || compareKeys(key, range.after) > 0) && (range.upTo === undefined || compareKeys(key, range.upTo) <= 0);
}

/**
 * The part of a partition after `after` (a resumed listing's position), or undefined when nothing
 * of it is left.
 */
export function partitionAfter(partition: Partition, after: string): Partition | undefined {
  if (partition.kind === 'inventory') throw new Error('an inventory partition is not in key order: it resumes by row count (skipRows)');
  if (partition.kind === 'objects') {
    const objects = partition.objects.filter((o) => compareKeys(o.key, after) > 0);
    return objects.length > 0 ? { kind: 'objects', objects } : undefined;
  }
  if (partition.upTo !== undefined && compareKeys(partition.upTo, after) <= 0) return undefined;
  // Every key under the prefix sorts before `after` when they differ within the prefix.
  if (compareKeys(after, partition.prefix) > 0 && !after.startsWith(partition.prefix)) return undefined;
  if (partition.after !== undefined && compareKeys(partition.after, after) >= 0) return partition;
  return compareKeys(after, partition.prefix) < 0 ? partition : { ...partition, after };
}
