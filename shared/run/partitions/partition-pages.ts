import { describePartition } from '../../pipeline/partition/descriptor';
import { listPartitionPages, type PartitionStores } from '../../pipeline/partition/listing';
import type { Partition } from '../../pipeline/partition/partition';
import type { ListPage, ObjectStore } from '../../storage/port';

/** What is left of a partition once all of it is read: nothing (a resumed worker reads one empty page and completes). */
export const NOTHING_LEFT = describePartition({ kind: 'objects', objects: [] });

/**
 * A partition's pages as the submission loop takes them: each page's `nextToken` is the
 * descriptor of what is left of the partition after it (whatever its kind: a range after the last
 * key, the objects or inventory rows left), absent on the last page. One page is read ahead to
 * know which page is the last.
 */
export async function* partitionPages(stores: PartitionStores | ObjectStore, partition: Partition, pageSize: number): AsyncGenerator<ListPage> {
  let held: { objects: ListPage['objects']; rest?: Partition } | undefined;
  for await (const page of listPartitionPages(stores, partition, pageSize)) {
    if (held) yield { objects: held.objects, nextToken: held.rest ? describePartition(held.rest) : NOTHING_LEFT };
    held = page;
  }
  yield { objects: held?.objects ?? [] };
}
