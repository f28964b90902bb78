import { describe, expect, it } from 'vitest';
import { MAX_PLAN_PARTITIONS, PARTITION_CHUNK_STRIDE, partitionChunkIndex, partitionChunkStride } from '../../shared/run/partitions/partition-worker';
import { chunkId } from '../../shared/state/run-chunks';

/** Partition indexes worth checking in a plan of `total`: both ends and a few in between. */
const sample = (total: number) => [...new Set([0, 1, Math.floor(total / 2), total - 2, total - 1].filter((p) => p >= 0 && p < total))];

/**
 * A deployed plan has one partition per S3 Inventory data file, so a large inventory plans 10,000
 * partitions or more. Chunk indexes were partition × 1,000,000 + n, and a chunk's id (its state
 * key) holds 10 digits: partition 10,000's first chunk had index 10,000,000,000, its references
 * file was written, and storing the chunk then threw, so that partition never submitted and the
 * run failed after the others had.
 */
describe('chunk indexes of plans of 10,000 partitions and more', () => {
  it('partition 10,000 of 20,000 (a report of 20,000 data files): its chunks have ids, after partition 9,999\'s', () => {
    const ids = [9_999, 10_000, 19_999].flatMap((p) => [0, 1].map((n) => chunkId({ index: partitionChunkIndex(p, n, 20_000) })));
    expect(new Set(ids).size).toBe(6);
    expect([...ids].sort()).toEqual(ids);
  });

  it.each([9_999, 10_000, 10_001, 20_000, MAX_PLAN_PARTITIONS])('%i partitions: every chunk has an id, distinct and in (partition, chunk) order', (total) => {
    const stride = partitionChunkStride(total);
    const ids: string[] = [];
    for (const p of sample(total)) {
      for (const n of [0, 1, stride - 1]) ids.push(chunkId({ index: partitionChunkIndex(p, n, total) }));
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // Consecutive partitions' ranges never meet.
    for (const p of sample(total).slice(0, -1)) expect(partitionChunkIndex(p, stride - 1, total)).toBeLessThan(partitionChunkIndex(p + 1, 0, total));
    // A retry pass numbers its chunks after the largest index: a whole stride of them still has ids.
    const last = partitionChunkIndex(total - 1, stride - 1, total);
    expect(() => chunkId({ index: last + stride })).not.toThrow();
    // Each partition keeps room for many references files.
    expect(stride).toBeGreaterThanOrEqual(99_999);
  });

  it('plans of fewer than 10,000 partitions keep the indexes runs were planned with before (a resumed run keeps its ingest ids)', () => {
    expect(partitionChunkStride(1)).toBe(PARTITION_CHUNK_STRIDE);
    expect(partitionChunkIndex(9_998, 5, 9_999)).toBe(9_998_000_005);
  });

  it('a partition that would need more chunks than its share fails naming it; a plan over the maximum is refused', () => {
    const stride = partitionChunkStride(50_000);
    expect(stride).toBe(199_996);
    expect(() => partitionChunkIndex(7, stride, 50_000)).toThrow(/partition 7 of 50000 needs more than 199996 references files: raise referencesPerFile$/);
    expect(() => partitionChunkStride(MAX_PLAN_PARTITIONS + 1)).toThrow(/a plan of 100001 partitions: at most 100000 partitions/);
  });
});
