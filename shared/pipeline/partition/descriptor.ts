import type { StoredObject } from '../../storage/port';
import type { Partition } from './partition';

/**
 * Largest descriptor kept in one partition item (DynamoDB items hold 400 KB): an `objects`
 * partition (at most one planning page, but keys may be up to 1,024 bytes each) is cut into
 * consecutive pieces below it, which still cover its objects exactly and in order.
 */
export const MAX_DESCRIPTOR_BYTES = 64 * 1024;

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

/** The plan with every `objects` partition whose descriptor would exceed `maxBytes` cut into consecutive pieces. */
export function boundedPartitions(partitions: Partition[], maxBytes = MAX_DESCRIPTOR_BYTES): Partition[] {
  return partitions.flatMap((p) => (p.kind === 'objects' ? splitObjects(p.objects, maxBytes) : [p]));
}

function splitObjects(objects: StoredObject[], maxBytes: number): Partition[] {
  const pieces: Partition[] = [];
  let current: StoredObject[] = [];
  let bytes = 0;
  for (const object of objects) {
    // Each object's share of the JSON, with room for the separator.
    const size = Buffer.byteLength(JSON.stringify(object)) + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      pieces.push({ kind: 'objects', objects: current });
      current = [];
      bytes = 0;
    }
    current.push(object);
    bytes += size;
  }
  if (current.length > 0) pieces.push({ kind: 'objects', objects: current });
  return pieces;
}
