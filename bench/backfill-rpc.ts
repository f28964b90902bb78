import type { MessagePort } from 'node:worker_threads';
import type { QueueSender } from '../shared/runtime/queue';
import type { StateStore } from '../shared/state/port';
import type { Chunk, ChunkKey, RunRecord } from '../shared/state/run-record';
import type { PartitionOutcome } from '../shared/run/partitions/partition-worker';
import { MODEL, sleep, type Layout } from './backfill-model';

/**
 * The state port across threads: the state (the "DynamoDB" of the bench: run record, partition
 * items, chunks, names, ledger) lives in the main thread, each worker thread (an invocation slot)
 * reaches it by message. Plain calls are forwarded as they are; listings come back whole and are
 * yielded one by one; the read-modify-write calls (updateRun, updateChunk) run as the DynamoDB
 * adapter runs them: the worker reads, applies its change, and the main thread writes only when
 * the item is still what was read (a conditional write), or the worker reads again.
 */

type Request =
  | { op: 'call'; path: string[]; args: unknown[] }
  | { op: 'iterate'; path: string[]; args: unknown[] }
  | { op: 'casRun'; runId: string; expected: RunRecord; next: RunRecord }
  | { op: 'casChunk'; runId: string; key: ChunkKey; expected: Chunk | undefined; next: Chunk }
  | { op: 'send'; queue: QueueName; bodies: unknown[]; options: { delaySeconds?: number } }
  | { op: 'take' };

/** The queues a partition worker sends to: the partitions queue (hand-on) and the job start (the join). */
export type QueueName = 'partitions' | 'startJob';

/** The main thread's side of the queues: a message sent, and the next partition message to work on (none yet, or `stop` once the run joined). */
export interface Mailroom {
  send(queue: QueueName, bodies: unknown[], options: { delaySeconds?: number }): Promise<void>;
  take(): { message?: unknown; stop: boolean };
}

export type RpcRequest = Request & { id: number; rpc: 'state' };
export interface RpcAnswer {
  id: number;
  rpc: 'answer';
  value?: unknown;
  error?: string;
  conflict?: boolean;
}

/** What a worker thread needs to build its ports: the bucket's layout, the fan-out's slots. */
export interface ThreadSetup {
  root: string;
  layout: Layout;
  slots: number;
  targetName: string;
}

/** What one worker thread did: its invocations, its own counters, and its CPU time as the kernel counted it. */
export interface ThreadReport {
  invocations: Array<{ partition: number; seconds: number; outcome: PartitionOutcome }>;
  signed: number;
  ingests: number;
  files: number;
  listRequests: number;
  /** CPU seconds this thread ran, and seconds it was ready to run but waited for a core (Linux schedstat). */
  cpuSeconds: number;
  waitedForCpu: number;
}

/** A conditional write found the item changed since it was read. */
class Conflict extends Error {}

/** Read-modify-write attempts before a worker gives up (the bench's workers touch different chunks; the run record is rarely raced). */
const MAX_ATTEMPTS = 100;

function member(root: object, path: string[]): { owner: object; fn: (...args: unknown[]) => unknown } {
  let owner = root as Record<string, unknown>;
  for (const name of path.slice(0, -1)) owner = owner[name] as Record<string, unknown>;
  const fn = owner[path[path.length - 1]!];
  if (typeof fn !== 'function') throw new Error(`state has no method ${path.join('.')}`);
  return { owner, fn: fn as (...args: unknown[]) => unknown };
}

/**
 * Answers one worker's requests on `port`. `state`: the store with DynamoDB's latency (calls and
 * listings go through it); `raw`: the same store without it, for the conditional writes, which
 * wait one round trip here (the read was its own call); `mailroom`: the queues.
 */
export function serveWorker(port: MessagePort | { postMessage(m: unknown): void }, state: StateStore, raw: StateStore, mailroom: Mailroom) {
  return async (request: RpcRequest): Promise<void> => {
    const answer: RpcAnswer = { id: request.id, rpc: 'answer' };
    try {
      if (request.op === 'send') {
        await mailroom.send(request.queue, request.bodies, request.options);
      } else if (request.op === 'take') {
        answer.value = mailroom.take();
      } else if (request.op === 'call') {
        const { owner, fn } = member(state, request.path);
        answer.value = await fn.apply(owner, request.args);
      } else if (request.op === 'iterate') {
        const { owner, fn } = member(state, request.path);
        const items: unknown[] = [];
        for await (const item of fn.apply(owner, request.args) as AsyncIterable<unknown>) items.push(item);
        await sleep(MODEL.dynamoMs * Math.max(1, Math.ceil(items.length / 1000)));
        answer.value = items;
      } else if (request.op === 'casRun') {
        const { expected, next } = request;
        await sleep(MODEL.dynamoMs);
        answer.value = await raw.updateRun(request.runId, (stored) => {
          if (JSON.stringify(stored) !== JSON.stringify(expected)) throw new Conflict();
          return next;
        });
      } else if (request.op === 'casChunk') {
        const { expected, next } = request;
        await sleep(MODEL.dynamoMs);
        answer.value = await raw.updateChunk(request.runId, request.key, (stored) => {
          if (JSON.stringify(stored) !== JSON.stringify(expected)) throw new Conflict();
          return next;
        });
      }
    } catch (err) {
      if (err instanceof Conflict) answer.conflict = true;
      else answer.error = err instanceof Error ? err.message : String(err);
    }
    port.postMessage(answer);
  };
}

/** The worker's side: a StateStore whose every call is a request to the main thread, the queues, the next message. */
export function workerClient(port: { postMessage(m: unknown): void }): {
  state: StateStore;
  queue(name: QueueName): QueueSender;
  take(): Promise<{ message?: unknown; stop: boolean }>;
  answer(a: RpcAnswer): void;
} {
  let nextId = 0;
  const waiting = new Map<number, { resolve(a: RpcAnswer): void }>();
  const ask = (request: Request) =>
    new Promise<RpcAnswer>((resolve) => {
      const id = ++nextId;
      waiting.set(id, { resolve });
      port.postMessage({ ...request, id, rpc: 'state' } satisfies RpcRequest);
    });
  const value = async (request: Request) => {
    const answer = await ask(request);
    if (answer.error !== undefined) throw new Error(answer.error);
    return answer;
  };
  const call = (path: string[]) => async (...args: unknown[]) => (await value({ op: 'call', path, args })).value;
  const iterate = (path: string[]) =>
    async function* (...args: unknown[]) {
      yield* (await value({ op: 'iterate', path, args })).value as unknown[];
    };
  const ITERATORS = new Set(['chunks', 'names', 'failures', 'exportTaskResults', 'list']);
  const proxy = (path: string[]): object =>
    new Proxy(
      {},
      {
        get(_, property) {
          if (typeof property !== 'string' || property === 'then') return undefined;
          if (property === 'partitions') return proxy([...path, property]);
          return ITERATORS.has(property) ? iterate([...path, property]) : call([...path, property]);
        },
      },
    );
  const state = proxy([]) as StateStore & Record<string, unknown>;
  const store = new Proxy(state, {
    get(target, property, receiver) {
      if (property === 'updateRun') {
        return async (runId: string, change: (run: RunRecord) => RunRecord) => {
          for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            const expected = (await value({ op: 'call', path: ['getRun'], args: [runId] })).value as RunRecord | undefined;
            if (!expected) throw new Error(`run ${runId} not found`);
            const answer = await value({ op: 'casRun', runId, expected, next: change(structuredClone(expected)) });
            if (!answer.conflict) return answer.value;
          }
          throw new Error(`run ${runId}: ${MAX_ATTEMPTS} conflicting updates in a row`);
        };
      }
      if (property === 'updateChunk') {
        return async (runId: string, key: ChunkKey, change: (chunk: Chunk | undefined) => Chunk | undefined) => {
          for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            const expected = (await value({ op: 'call', path: ['getChunk'], args: [runId, key] })).value as Chunk | undefined;
            const next = change(expected === undefined ? undefined : structuredClone(expected));
            if (next === undefined) return expected;
            const answer = await value({ op: 'casChunk', runId, key, expected, next });
            if (!answer.conflict) return answer.value;
          }
          throw new Error(`run ${runId}: ${MAX_ATTEMPTS} conflicting updates of a chunk in a row`);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
  return {
    state: store,
    queue: (queue) => ({
      send: async (bodies, options = {}) => {
        await value({ op: 'send', queue, bodies, options });
      },
    }),
    take: async () => (await value({ op: 'take' })).value as { message?: unknown; stop: boolean },
    answer(a) {
      waiting.get(a.id)?.resolve(a);
      waiting.delete(a.id);
    },
  };
}
