import type { StateStore } from './port';
import type { Chunk, ChunkKey } from './run-record';

const PARTITION_DIGITS = 6;
const INDEX_DIGITS = 10;

/**
 * A chunk's id within its run, `<partition>-<index>` zero-padded (`000000-0000000003`), so ids sort
 * in (partition, index) order; an absent partition is partition 0, so chunks written before runs
 * had partitions keep their id. Stores key a chunk's item (or file) by it.
 */
export function chunkId(key: ChunkKey): string {
  return `${padded(key.partition ?? 0, PARTITION_DIGITS, 'partition')}-${padded(key.index, INDEX_DIGITS, 'chunk index')}`;
}

function padded(n: number, digits: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 10 ** digits) throw new Error(`${what} ${n} is not an integer in [0, ${10 ** digits})`);
  return String(n).padStart(digits, '0');
}

/** Stores the chunk as given (replacing what was stored for its key). */
export async function putChunk(state: StateStore, runId: string, chunk: Chunk): Promise<void> {
  await state.updateChunk(runId, chunk, () => chunk);
}

/** Every chunk of the run, in (partition, index) order (one item each: O(chunks) reads). */
export async function readChunks(state: StateStore, runId: string): Promise<Chunk[]> {
  const all: Chunk[] = [];
  for await (const chunk of state.chunks(runId)) all.push(chunk);
  return all;
}

/**
 * Records a chunk as its submission returned it. A fast webhook may already have moved the chunk
 * on (ingested, failed): never move it back.
 */
export async function recordSubmitted(state: StateStore, runId: string, submitted: Chunk): Promise<void> {
  await state.updateChunk(runId, submitted, (current) => (current ? mergeSubmitted(current, submitted) : submitted));
}

function mergeSubmitted(current: Chunk, submitted: Chunk): Chunk {
  return {
    ...current,
    status: current.status === 'written' ? submitted.status : current.status,
    duplicated: submitted.duplicated,
    shardIds: submitted.shardIds,
    targetRef: submitted.targetRef,
  };
}
