import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../shared/log';
import { listSource } from '../shared/pipeline/partition/listing';
import { planPartitions } from '../shared/pipeline/partition/plan';
import { PARTITIONS_PER_SLOT, PLANNING_CONCURRENCY } from '../shared/run/partitions/fan-out';
import type { BridgeDeps } from '../shared/run/deps';
import { createRun } from '../shared/run/start-run';
import { continueSubmission } from '../shared/run/submit-run';
import { runFanOut, startThreads, type FanOutResult } from './backfill-fanout';
import { BenchState } from './backfill-partitions';
import { MODEL, ModelBucket, modelTarget, threadTimes, withDynamoLatency, type Layout } from './backfill-model';
import { benchRunSpec, reportResult } from './lib';

/**
 * One simulated backfill on the latency model (backfill-model.ts): the real submission use cases,
 * file-backed state behind DynamoDB's latency, a generated bucket, real signing.
 * Usage: backfill.ts <folders|flat> <objects> <N> [fanout|threads|cli|list|plan] [workers]
 *   N = 1: the deployed sequential path: one invocation after another (continueSubmission),
 *          each with MODEL.invocationMinutes, handing on when it is used up;
 *   N > 1, fanout (default): the deployed fan-out (backfill-fanout.ts): the planner for N
 *          partitions at once, N partition workers (or `workers`: 1 times each partition alone),
 *          the join; all on this one JavaScript thread;
 *   N > 1, threads: the same fan-out with each of the N workers in a worker thread of its own (an
 *          invocation with its own CPU), the state and queues in this thread (backfill-rpc.ts);
 *   N > 1, cli: the CLI's partitioned listing (`run --concurrency N`): N partitions listed at
 *          once feeding the one naming → signing → references pipeline;
 *   list: only the CLI's listing (listSource with concurrency N): pages and time;
 *   plan: only the fan-out's planning (its planner's target and concurrency for N): the time it
 *          takes and the objects of each partition, for the projection.
 * Folders: 10,000 objects each (`cams/fNNNN/img_NNNNNN.jpg`); flat: `cams/img_NNNNNNNN.jpg`.
 * Reports the wall time, the CPU time of the process and what was submitted.
 */
const [layoutArg = 'folders', countArg = '100000', nArg = '1', driverArg = 'fanout', workersArg] = process.argv.slice(2);
const count = Number(countArg);
const FOLDER_OBJECTS = 10_000;
const n = Number(nArg);
const layout: Layout = layoutArg === 'flat' ? { kind: 'flat', count } : { kind: 'folders', folders: Math.ceil(count / FOLDER_OBJECTS), perFolder: FOLDER_OBJECTS };
const bucket = new ModelBucket('cams/', layout);
const target = modelTarget();
const stateDir = mkdtempSync(join(tmpdir(), 'bucket-bridge-bench-backfill-'));
const spec = benchRunSpec();
let signed = 0;
const raw = new BenchState(stateDir);
const deps: BridgeDeps = {
  source: bucket,
  dest: bucket,
  state: withDynamoLatency(raw),
  target,
  log: silentLogger,
  progress: (stage, k) => {
    if (stage === 'signed') signed += k;
  },
  pageSize: 1000,
  listConcurrency: driverArg === 'cli' ? n : 1,
};

if (driverArg === 'list') {
  const started = performance.now();
  let listed = 0;
  for await (const page of listSource(bucket, 'cams/', { pageSize: 1000, concurrency: n })) listed += page.objects.length;
  reportResult({ seconds: (performance.now() - started) / 1000, listed, listRequests: bucket.listRequests });
  rmSync(stateDir, { recursive: true, force: true });
  process.exit(0);
}
if (driverArg === 'plan') {
  const started = performance.now();
  const partitions = await planPartitions(bucket, 'cams/', { target: n * PARTITIONS_PER_SLOT, concurrency: PLANNING_CONCURRENCY, pageSize: 1000 });
  const planSeconds = (performance.now() - started) / 1000;
  reportResult({ planSeconds, listRequests: bucket.listRequests, partitionObjects: partitions.map((p) => bucket.countIn(p)) });
  rmSync(stateDir, { recursive: true, force: true });
  process.exit(0);
}

try {
  // The invocation slots are warm before the clock starts (the use cases loaded in each thread).
  const threads = n > 1 && driverArg === 'threads' ? await startThreads(n, { root: 'cams/', layout, slots: n, targetName: spec.target.name }) : [];
  const cpuBefore = process.cpuUsage();
  const mainBefore = threadTimes();
  const started = performance.now();
  const run = await createRun(deps, spec);
  let invocations = 0;
  let outcome = 'submitted';
  let fanOut: FanOutResult | undefined;
  if (n > 1 && (driverArg === 'fanout' || driverArg === 'threads')) {
    fanOut = await runFanOut(deps, raw, run, n, threads.length > 0 ? { threads } : { inProcess: workersArg ? Number(workersArg) : n });
    invocations = fanOut.invocations;
    if (!fanOut.joined) outcome = 'not joined';
  } else {
    do {
      invocations++;
      const began = performance.now();
      outcome = await continueSubmission(deps, run.runId, { shouldYield: () => performance.now() - began > (MODEL.invocationMinutes - 1) * 60_000 });
    } while (outcome === 'yielded');
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const main = threadTimes();
  const slots = fanOut?.threads ?? [];
  await Promise.all(threads.map((t) => t.terminate()));
  const final = (await deps.state.getRun(run.runId))!;
  reportResult({
    driver: n === 1 ? 'sequential' : driverArg,
    ...(fanOut ? { planSeconds: fanOut.planSeconds, partitions: fanOut.partitions, handOns: fanOut.handOns, partitionSeconds: fanOut.partitionSeconds, partitionListed: fanOut.partitionListed } : {}),
    outcome,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    // This (main) thread alone, and each worker thread (invocation slot).
    mainCpuSeconds: main.cpu - mainBefore.cpu,
    waitedForCpu: main.waited - mainBefore.waited,
    threadCpuSeconds: slots.map((t) => t.cpuSeconds),
    threadWaitedForCpu: slots.map((t) => t.waitedForCpu),
    invocations,
    listed: final.listed,
    submitted: final.submitted,
    signed: signed + sum(slots.map((t) => t.signed)),
    ingests: target.ingests + sum(slots.map((t) => t.ingests)),
    files: bucket.files + sum(slots.map((t) => t.files)),
    listRequests: bucket.listRequests + sum(slots.map((t) => t.listRequests)),
  });
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
