import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../../concurrency';
import { chunkId } from '../run-chunks';
import { Chunk, type ChunkKey } from '../run-record';
import { prefixQuery, queryItems, type ResolvedOptions } from './operations';
import { keys, RUN_ITEM_PREFIX, runPartition } from './table';
import { VersionedItems } from './versioned-item';

/**
 * A run's chunks, one versioned item each in the run's partition (sort key `CHUNK#<partition>-<index>`),
 * so a run of any size keeps a constant-size run item and webhooks for different chunks never
 * contend for one item.
 */
export class DynamoChunkItems {
  private readonly items: VersionedItems;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ResolvedOptions,
  ) {
    this.items = new VersionedItems(doc, tableName, options);
  }

  update(runId: string, key: ChunkKey, change: (chunk: Chunk | undefined) => Chunk | undefined): Promise<Chunk | undefined> {
    const id = chunkId(key);
    return this.items.update(
      keys.chunk(runId, key),
      (raw) => Chunk.parse(raw),
      (current) => {
        const next = change(current === undefined ? undefined : structuredClone(current));
        if (next === undefined) return 'unchanged';
        const chunk = Chunk.parse(next);
        if (chunkId(chunk) !== id) throw new Error(`an update of chunk ${id} of run ${runId} must not change its key (got ${chunkId(chunk)})`);
        return { next: chunk, attributes: { status: chunk.status } };
      },
      `run ${runId} chunk ${id}`,
    );
  }

  async get(runId: string, key: ChunkKey): Promise<Chunk | undefined> {
    const read = await this.items.read(keys.chunk(runId, key));
    return read ? Chunk.parse(read.raw) : undefined;
  }

  async *list(runId: string): AsyncGenerator<Chunk> {
    const input = prefixQuery(this.tableName, runPartition(runId), RUN_ITEM_PREFIX.chunk, this.options.pageSize);
    for await (const item of queryItems(this.doc, input)) yield Chunk.parse(JSON.parse(String(item.record)));
  }

  /** Stores chunks read from an earlier version's run record, each unless its item exists (that one is newer). */
  async adopt(runId: string, chunks: readonly Chunk[]): Promise<void> {
    await mapLimit([...chunks], this.options.concurrency, async (chunk) => {
      await this.items.write(keys.chunk(runId, chunk), undefined, Chunk.parse(chunk), { status: chunk.status });
    });
  }
}
