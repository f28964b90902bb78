import type { Logger } from '../../log';
import type { ListPage, ObjectStore } from '../../storage/port';
import { readInventoryPartition } from './inventory';
import type { InventorySource } from './inventory-location';
import { planInventoryPartitions } from './inventory-plan';
import { orderedMerge } from './listing';

/**
 * Checkpoint tokens of an inventory-driven run: `inventory:<data file index>:<rows read>`, "every
 * row before this one is done". Data files are not sorted by key, so the position is a row count.
 */
const INVENTORY_MARK = 'inventory:';

export interface InventoryListingOptions {
  /** The run's source: only its objects under its prefix. */
  sourceBucket: string;
  prefix: string;
  pageSize: number;
  /** An earlier page's `nextToken`. */
  startToken?: string;
  /** Data files read at once. */
  concurrency: number;
  log?: Logger;
}

/**
 * The pages of a run whose objects come from an S3 Inventory report instead of a listing: each
 * data file of the manifest is a partition, `concurrency` of them read at once, handed on in the
 * manifest's order; each page's token is the position after it (the last page has none), so a
 * run stopped anywhere resumes with the next row, however the files are ordered inside.
 */
export async function* listInventorySource(store: ObjectStore | undefined, source: InventorySource, options: InventoryListingOptions): AsyncGenerator<ListPage> {
  const started = Date.now();
  const planned = await planInventoryPartitions(store, source, { bucket: options.sourceBucket, prefix: options.prefix });
  const reader = store!; // planning refused a missing store
  const from = parseToken(options.startToken);
  const partitions = planned
    .map((partition, file) => ({ file, partition: file === from.file ? { ...partition, skipRows: from.rows } : partition }))
    .filter(({ file }) => file >= from.file);
  options.log?.info('source read from an S3 Inventory', { manifest: source.manifestKey, dataFiles: planned.length, from: from.file, concurrency: options.concurrency, ms: Date.now() - started });

  const sources = partitions.map(({ file, partition }) => async function* () {
    for await (const page of readInventoryPartition(reader, partition, options.pageSize)) yield { objects: page.objects, file, position: page.position };
    // The file's end: what follows is the next file's first row.
    yield { objects: [], file: file + 1, position: 0 };
  });
  let held: ListPage | undefined;
  for await (const page of orderedMerge(sources, options.concurrency)) {
    if (held) yield held;
    held = { objects: page.objects, nextToken: `${INVENTORY_MARK}${page.file}:${page.position}` };
  }
  // The last page is known only once every data file has ended: it carries no token.
  yield { objects: held?.objects ?? [] };
}

function parseToken(token: string | undefined): { file: number; rows: number } {
  if (token === undefined) return { file: 0, rows: 0 };
  const match = /^inventory:(\d+):(\d+)$/.exec(token);
  if (!match) throw new Error(`checkpoint ${JSON.stringify(token)} is not a position in an inventory (the run was started with a listing)`);
  return { file: Number(match[1]), rows: Number(match[2]) };
}
