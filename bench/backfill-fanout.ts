import { Worker } from 'node:worker_threads';
import type { BridgeConfig } from '../shared/config/bridge-config';
import { silentLogger } from '../shared/log';
import type { PartitionMessage } from '../shared/runtime/messages';
import type { QueueSender } from '../shared/runtime/queue';
import type { BridgeDeps } from '../shared/run/deps';
import { fanOut } from '../shared/run/partitions/fan-out';
import { submitPartition, type PartitionOutcome } from '../shared/run/partitions/partition-worker';
import type { ServerlessPorts } from '../shared/run/serverless-ports';
import type { StateStore } from '../shared/state/port';
import type { RunRecord } from '../shared/state/run-record';
import { MODEL, sleep } from './backfill-model';
import { serveWorker, type RpcRequest, type ThreadReport, type ThreadSetup } from './backfill-rpc';

/** An in-process queue: messages wait for a worker; delayed ones (the run's sweep) are counted, not delivered. */
export class MemoryQueue implements QueueSender {
  readonly waiting: unknown[] = [];
  sent = 0;
  delayed = 0;
  async send(bodies: unknown[], options: { delaySeconds?: number } = {}): Promise<void> {
    await sleep(MODEL.dynamoMs); // an SQS SendMessageBatch: about one DynamoDB request's time
    this.sent += bodies.length;
    if (options.delaySeconds) this.delayed += bodies.length;
    else this.waiting.push(...bodies);
  }
}

export interface FanOutResult {
  planSeconds: number;
  partitions: number;
  /** Partition messages delivered (an invocation each). */
  invocations: number;
  handOns: number;
  joined: boolean;
  /** Wall seconds each partition took in its invocations, and the objects it listed. */
  partitionSeconds: number[];
  partitionListed: number[];
  /** With worker threads: what each thread (an invocation slot) did. */
  threads?: ThreadReport[];
}

/** The deployed use cases' ports around one run's: the partitions and job-start queues given, the others unused. */
export function benchPorts(deps: BridgeDeps, state: StateStore, slots: number, targetName: string, queues: { partitions: QueueSender; startJob: QueueSender }): ServerlessPorts {
  return {
    config: { target: { name: targetName }, discovery: { partitions: slots, sweepSeconds: 900 } } as unknown as BridgeConfig,
    log: silentLogger,
    metrics: { add() {} },
    state,
    pending: undefined as never,
    queues: { ...queues, submissions: new MemoryQueue(), export: new MemoryQueue() },
    depsFor: async () => deps,
    storeFor: () => deps.dest,
  } as ServerlessPorts;
}

/** One delivery of a partition message, as the partitions queue's Lambda runs it: MODEL.invocationMinutes, handing on a minute before the end. */
export async function invokePartition(ports: ServerlessPorts, message: Extract<PartitionMessage, { kind: 'partition' }>): Promise<{ outcome: PartitionOutcome; seconds: number }> {
  const began = performance.now();
  const budgetMs = MODEL.invocationMinutes * 60_000;
  const outcome = await submitPartition(ports, message, {
    remainingMs: () => budgetMs - (performance.now() - began),
    shouldYield: () => performance.now() - began > budgetMs - 60_000,
  });
  return { outcome, seconds: (performance.now() - began) / 1000 };
}

/**
 * The deployed fan-out: the planner (fanOut: the source planned for `slots` partitions at once,
 * items written, one message each), then partition workers (submitPartition, each message its
 * own invocation) taking messages until the last partition's completion joins the run (the job
 * start is asked for once). The sweep message (sent with a delay) is not delivered: no message
 * is lost here. Workers: `{ inProcess: k }` k workers on this thread; `{ threads }` one worker
 * thread per invocation slot (its own event loop and CPU time, the state and queues reached by
 * message, see backfill-rpc.ts), started before the run.
 */
export async function runFanOut(
  deps: BridgeDeps,
  raw: StateStore,
  run: RunRecord,
  slots: number,
  workers: { inProcess: number } | { threads: Worker[] },
): Promise<FanOutResult> {
  const partitionsQueue = new MemoryQueue();
  const startJob = new MemoryQueue();
  const ports = benchPorts(deps, deps.state, slots, run.spec.target.name, { partitions: partitionsQueue, startJob });

  const planStarted = performance.now();
  const sealed = await fanOut(ports, deps, run, slots);
  const planSeconds = (performance.now() - planStarted) / 1000;

  let invocations = 0;
  let handOns = 0;
  const partitionSeconds = new Array<number>(sealed.total).fill(0);
  const take = () => (partitionsQueue.waiting.shift() as Extract<PartitionMessage, { kind: 'partition' }> | undefined);
  let threads: ThreadReport[] | undefined;
  if ('inProcess' in workers) {
    const worker = async () => {
      while (startJob.sent === 0) {
        const message = take();
        if (!message) {
          await sleep(5);
          continue;
        }
        invocations++;
        const { outcome, seconds } = await invokePartition(ports, message);
        partitionSeconds[message.partition]! += seconds;
        if (outcome === 'handed-on') handOns++;
      }
    };
    await Promise.all(Array.from({ length: workers.inProcess }, worker));
  } else {
    const queues = { partitions: partitionsQueue, startJob };
    const mailroom = {
      send: (queue: keyof typeof queues, bodies: unknown[], options: { delaySeconds?: number }) => queues[queue].send(bodies, options),
      take: () => ({ message: take(), stop: startJob.sent > 0 }),
    };
    threads = await Promise.all(
      workers.threads.map(
        (thread) =>
          new Promise<ThreadReport>((resolve, reject) => {
            const serve = serveWorker(thread, deps.state, raw, mailroom);
            thread.on('message', (m: RpcRequest | { rpc: 'report'; report: ThreadReport }) => {
              if (m.rpc === 'state') void serve(m);
              else if (m.rpc === 'report') resolve(m.report);
            });
            thread.once('error', reject);
            thread.postMessage({ rpc: 'go' });
          }),
      ),
    );
    for (const t of threads) {
      invocations += t.invocations.length;
      for (const i of t.invocations) {
        partitionSeconds[i.partition]! += i.seconds;
        if (i.outcome === 'handed-on') handOns++;
      }
    }
  }
  const partitionListed: number[] = [];
  for await (const p of deps.state.partitions.list(run.runId, sealed.plan)) partitionListed[p.index] = p.progress.counts.listed;
  return { planSeconds, partitions: sealed.total, invocations, handOns, joined: startJob.sent > 0, partitionSeconds, partitionListed, ...(threads ? { threads } : {}) };
}

const THREAD_ENTRY = new URL('./backfill-thread.ts', import.meta.url).href;

/** Starts `count` worker threads (invocation slots) for the bucket `setup` describes, and waits until each has loaded the use cases. */
export async function startThreads(count: number, setup: ThreadSetup): Promise<Worker[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Worker>((resolve, reject) => {
          // A worker thread does not inherit tsx's loader: it registers it, then loads the TypeScript entry.
          const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_ENTRY)}); })`;
          const thread = new Worker(boot, { eval: true, workerData: setup });
          thread.once('message', () => resolve(thread));
          thread.once('error', reject);
        }),
    ),
  );
}
