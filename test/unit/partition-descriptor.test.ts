import { describe, expect, it } from 'vitest';
import { describePartition, partitionFromDescriptor } from '../../shared/pipeline/partition/descriptor';
import type { Partition } from '../../shared/pipeline/partition/partition';
import { PARTITION_CHUNK_STRIDE, partitionChunkIndex } from '../../shared/run/partitions/partition-worker';

describe('partition descriptors (the opaque part of a partition item)', () => {
  it('round-trips ranges and objects, modification times as dates (the ledger keys ETag-less objects by them)', () => {
    const range: Partition = { kind: 'range', prefix: 'in/flat/', after: 'in/flat/a', upTo: 'in/flat/m' };
    expect(partitionFromDescriptor(describePartition(range))).toEqual(range);
    const objects: Partition = { kind: 'objects', objects: [{ key: 'in/a.jpg', size: 3, etag: '"e"' }, { key: 'in/b.jpg', size: 4, lastModified: new Date('2026-01-02T03:04:05Z') }] };
    expect(partitionFromDescriptor(describePartition(objects))).toEqual(objects);
  });
});

describe('chunk indexes of partitions', () => {
  it('gives each partition its own range, and refuses a chunk that would enter the next one', () => {
    expect(partitionChunkIndex(0, 0, 16)).toBe(0);
    expect(partitionChunkIndex(3, 2, 16)).toBe(3_000_002);
    expect(partitionChunkIndex(3, PARTITION_CHUNK_STRIDE - 1, 16)).toBeLessThan(partitionChunkIndex(4, 0, 16));
    expect(() => partitionChunkIndex(3, PARTITION_CHUNK_STRIDE, 16)).toThrow(/partition 3 of 16 needs more than 1000000 references files/);
  });
});
