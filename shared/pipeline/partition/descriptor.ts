import type { StoredObject } from '../../storage/port';
import type { Partition } from './partition';

/** A partition as stored with its state item (JSON; `objects` keep key, size, ETag and modification time). */
export function describePartition(partition: Partition): string {
  return JSON.stringify(partition);
}

/** The partition a descriptor stands for; other kinds than `objects` come back as they were written. */
export function partitionFromDescriptor(descriptor: string): Partition {
  const partition = JSON.parse(descriptor) as Partition;
  if (partition.kind !== 'objects') return partition;
  const objects = partition.objects.map((o: StoredObject & { lastModified?: Date | string }) =>
    o.lastModified === undefined ? o : { ...o, lastModified: new Date(o.lastModified) },
  );
  return { ...partition, objects };
}
