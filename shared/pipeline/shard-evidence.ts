import type { Chunk } from '../state/run-record';
import type { IngestProgress } from '../targets/port';

/**
 * How long the staged count may stay unchanged, with nothing running, while a chunk still shows
 * no shard, before that chunk is taken as never ingested. An ingest can take minutes before its
 * first shard appears (Roboflow queues it), so this is far longer than the polls that settle an
 * ingest whose shards are all known.
 */
export const NO_SHARD_QUIET_MS = 60 * 60 * 1000;

/**
 * Submitted chunks the listing shows no shard for yet. A chunk given shard ids at submission is
 * shown by one of them; the others each need a shard of their own among the rest (the listing
 * says nothing of which ingest a shard belongs to). Chunks that failed as a whole, and uploads
 * that sent no archive, make no shard.
 */
export function chunksWithoutShard(chunks: readonly Chunk[], progress: IngestProgress): number {
  const unclaimed = new Set(progress.shards.map((s) => s.id));
  let unnamed = 0;
  let missing = 0;
  for (const chunk of chunks.filter(makesShards)) {
    const known = chunk.shardIds ?? [];
    if (known.length === 0) unnamed++;
    else if (known.some((id) => unclaimed.has(id))) for (const id of known) unclaimed.delete(id);
    else missing++;
  }
  return missing + Math.max(0, unnamed - unclaimed.size);
}

function makesShards(chunk: Chunk): boolean {
  return chunk.status !== 'failed' && (chunk.archivesSent === undefined || chunk.archivesSent.length > 0);
}
