import type { BridgeConfig } from '../shared/config/bridge-config';
import { silentLogger } from '../shared/log';
import type { PartitionMessage } from '../shared/runtime/messages';
import type { QueueSender } from '../shared/runtime/queue';
import type { BridgeDeps } from '../shared/run/deps';
import { fanOut } from '../shared/run/partitions/fan-out';
import { submitPartition } from '../shared/run/partitions/partition-worker';
import type { ServerlessPorts } from '../shared/run/serverless-ports';
import type { RunRecord } from '../shared/state/run-record';
import { MODEL, sleep } from './backfill-model';

/** An in-process queue: messages wait for a worker; delayed ones (the run's sweep) are counted, not delivered. */
class MemoryQueue implements QueueSender {
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
}

/**
 * The deployed fan-out in one process: the planner (fanOut: the source planned for `slots`
 * partitions at once, items written, one message each) and `workers` partition workers (submitPartition, as the partitions queue's
 * Lambda invokes it, each message its own invocation with MODEL.invocationMinutes and hand-on),
 * taking messages until the last partition's completion joins the run (the job start is asked
 * for once). The sweep message (sent with a delay) is not delivered: no message is lost here.
 */
export async function runFanOut(deps: BridgeDeps, run: RunRecord, slots: number, workers = slots): Promise<FanOutResult> {
  const partitionsQueue = new MemoryQueue();
  const startJob = new MemoryQueue();
  const ports = {
    config: { target: { name: run.spec.target.name }, discovery: { partitions: slots, sweepSeconds: 900 } } as unknown as BridgeConfig,
    log: silentLogger,
    metrics: { add() {} },
    state: deps.state,
    pending: undefined as never,
    queues: { partitions: partitionsQueue, startJob, submissions: new MemoryQueue(), export: new MemoryQueue() },
    depsFor: async () => deps,
    storeFor: () => deps.dest,
  } as ServerlessPorts;

  const planStarted = performance.now();
  const sealed = await fanOut(ports, deps, run, slots);
  const planSeconds = (performance.now() - planStarted) / 1000;

  let invocations = 0;
  let handOns = 0;
  const partitionSeconds = new Array<number>(sealed.total).fill(0);
  const worker = async () => {
    while (startJob.sent === 0) {
      const message = partitionsQueue.waiting.shift() as Extract<PartitionMessage, { kind: 'partition' }> | undefined;
      if (!message) {
        await sleep(5);
        continue;
      }
      invocations++;
      const began = performance.now();
      const budgetMs = MODEL.invocationMinutes * 60_000;
      const outcome = await submitPartition(ports, message, {
        remainingMs: () => budgetMs - (performance.now() - began),
        // Hand on with a minute to spare, as the deployed worker does with its own context.
        shouldYield: () => performance.now() - began > budgetMs - 60_000,
      });
      partitionSeconds[message.partition]! += (performance.now() - began) / 1000;
      if (outcome === 'handed-on') handOns++;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const partitionListed: number[] = [];
  for await (const p of deps.state.partitions.list(run.runId, sealed.plan)) partitionListed[p.index] = p.progress.counts.listed;
  return { planSeconds, partitions: sealed.total, invocations, handOns, joined: startJob.sent > 0, partitionSeconds, partitionListed };
}
