import type { Logger } from '../../log';
import type { RunSpec } from '../../state/run-record';
import type { ListPage, ObjectStore } from '../../storage/port';
import { listInventorySource } from './inventory-source';
import { listSource } from './listing';

export interface SourcePagesOptions {
  pageSize: number;
  /** The run's checkpoint token. */
  startToken?: string;
  /** Partitions (key ranges or inventory data files) read at once. */
  concurrency: number;
  log?: Logger;
}

/** Where a run's objects come from: its S3 Inventory report when it names one, else a listing of its source prefix. */
export function sourcePages(stores: { source: ObjectStore; inventory?: ObjectStore }, spec: RunSpec, options: SourcePagesOptions): AsyncIterable<ListPage> {
  if (!spec.inventory) return listSource(stores.source, spec.source.prefix, options);
  return listInventorySource(stores.inventory, spec.inventory, { ...options, sourceBucket: spec.source.bucket, prefix: spec.source.prefix });
}
