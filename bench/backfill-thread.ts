import { parentPort, workerData } from 'node:worker_threads';
import { silentLogger } from '../shared/log';
import type { PartitionMessage } from '../shared/runtime/messages';
import type { BridgeDeps } from '../shared/run/deps';
import { benchPorts, invokePartition } from './backfill-fanout';
import { ModelBucket, modelTarget, sleep, threadTimes } from './backfill-model';
import { workerClient, type RpcAnswer, type ThreadReport, type ThreadSetup } from './backfill-rpc';

/**
 * One invocation slot of the fan-out in a thread of its own (as each Lambda invocation has its
 * own vCPU): the partitions worker's use case (submitPartition) with its own bucket client,
 * signer and target; the state and the queues are the main thread's, reached by message
 * (backfill-rpc.ts). Takes partition messages until the run has joined, then reports.
 */
const setup = workerData as ThreadSetup;
const port = parentPort!;
const client = workerClient(port);
const bucket = new ModelBucket(setup.root, setup.layout);
const target = modelTarget();
let signed = 0;
const deps: BridgeDeps = {
  source: bucket,
  dest: bucket,
  state: client.state,
  target,
  log: silentLogger,
  progress: (stage, k) => {
    if (stage === 'signed') signed += k;
  },
  pageSize: 1000,
  listConcurrency: 1,
};
const ports = benchPorts(deps, client.state, setup.slots, setup.targetName, { partitions: client.queue('partitions'), startJob: client.queue('startJob') });

port.on('message', (m: RpcAnswer | { rpc: 'go' }) => {
  if (m.rpc === 'answer') client.answer(m);
  else void work();
});
port.postMessage({ rpc: 'ready' });

async function work() {
  const before = threadTimes();
  const invocations: ThreadReport['invocations'] = [];
  for (;;) {
    const { message, stop } = await client.take();
    if (stop) break;
    if (!message) {
      await sleep(5);
      continue;
    }
    const partition = message as Extract<PartitionMessage, { kind: 'partition' }>;
    const { outcome, seconds } = await invokePartition(ports, partition);
    invocations.push({ partition: partition.partition, seconds, outcome });
  }
  const after = threadTimes();
  const report: ThreadReport = {
    invocations,
    signed,
    ingests: target.ingests,
    files: bucket.files,
    listRequests: bucket.listRequests,
    cpuSeconds: after.cpu - before.cpu,
    waitedForCpu: after.waited - before.waited,
  };
  port.postMessage({ rpc: 'report', report });
}
