import { availableParallelism } from 'node:os';
import { MODEL } from './backfill-model';
import { projectWall } from './backfill-projection';
import { runChild, type ChildResult } from './lib';

/** A bench table row of the backfill, with the target it is judged by (none: for information). */
export interface BackfillRow {
  scenario: string;
  measured: string;
  baseline?: string;
  ratio?: string;
  rss?: string;
  size?: string;
  target?: string;
  check?: { ok: boolean; what: string };
}

const WORKERS = 16;
/** Objects of the fan-out run with one worker (its partitions of one or two pages show each partition's own cost). */
const ALONE_OBJECTS = 50_000;
const MEASURED_OBJECTS = 1_000_000;
const PROJECTED_OBJECTS = 10_000_000;
const PAGE = 1000;

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const minutes = (seconds: number) => (seconds < 60 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`);

/** The model's parameters, as the table prints them. */
export function modelRow(): BackfillRow {
  return {
    scenario: 'Backfill latency model (bench/backfill-model.ts)',
    measured:
      `ListObjectsV2 ${MODEL.listMs} ms a request (a page of ≤ 1,000 keys or a planning probe); DynamoDB ${MODEL.dynamoMs} ms a round trip ` +
      `(BatchWriteItem ${MODEL.itemsPerBatch} items, ${MODEL.batchesInFlight} in flight; read-modify-write 2); references file PUT (or part) ${MODEL.putMs} ms + ${MODEL.putMBps} MB/s, streamed past ${MODEL.partBytes / 2 ** 20} MiB as multipart (${MODEL.partsInFlight} parts in flight); ` +
      `ingest request ${MODEL.ingestMs} ms; invocation ${MODEL.invocationMinutes} min, handing on 1 min before its end, ${MODEL.handOnMs / 1000} s a hand-on; ` +
      `${MODEL.cpusPerInvocation} vCPU an invocation. Real: use cases (continueSubmission; fanOut + submitPartition + join), naming, signing, references files, state on disk`,
  };
}

/**
 * One key layout: the deployed sequential path on 1,000,000 objects (the speed-up's baseline),
 * the deployed fan-out planned for N = 16 on 50,000 objects with one worker (each partition's
 * own cost, uncontended by the others), the fan-out at N = 16 on 1,000,000 objects, the plan of
 * 10,000,000, and the projection of 10,000,000 at N = 1 and N = 16 from what was measured.
 */
export async function layoutRows(layout: 'folders' | 'flat', log: (message: string) => void): Promise<BackfillRow[]> {
  const what = layout === 'folders' ? 'folders of 10,000 images' : 'one flat folder of numbered names';
  log(`backfill (${layout}): ${n(MEASURED_OBJECTS)} objects, sequential`);
  const one = await runChild('backfill.ts', [layout, String(MEASURED_OBJECTS), '1'], 600_000);
  log(`backfill (${layout}): ${n(ALONE_OBJECTS)} objects, fan-out planned for N = ${WORKERS}, one partition at a time`);
  const alone = await runChild('backfill.ts', [layout, String(ALONE_OBJECTS), String(WORKERS), 'fanout', '1'], 240_000);
  log(`backfill (${layout}): ${n(MEASURED_OBJECTS)} objects, fan-out N = ${WORKERS}, a worker thread each`);
  const many = await runChild('backfill.ts', [layout, String(MEASURED_OBJECTS), String(WORKERS), 'threads'], 300_000);
  log(`backfill (${layout}): plan of ${n(PROJECTED_OBJECTS)} objects`);
  const plan = await runChild('backfill.ts', [layout, String(PROJECTED_OBJECTS), String(WORKERS), 'plan'], 60_000);
  complete(one, MEASURED_OBJECTS);
  complete(alone, ALONE_OBJECTS);
  complete(many, MEASURED_OBJECTS);

  // One worker's cost per page, on one core (a Lambda invocation's vCPU): the latency model's
  // waits plus the CPU between them.
  const pages = Math.ceil(MEASURED_OBJECTS / PAGE);
  const pageSeconds = (one.seconds as number) / pages;
  const cpuPerPage = (one.cpuSeconds as number) / pages;
  // What a partition costs beyond its pages (claim, run read, its own references file and ingest,
  // completion), from the fan-out run with one worker: each partition timed alone, as one
  // invocation with its own CPU would run it.
  const partitionSeconds = alone.partitionSeconds as number[];
  const listed = alone.partitionListed as number[];
  const overheads = partitionSeconds.map((s, i) => Math.max(0, s - Math.ceil((listed[i] ?? 0) / PAGE) * pageSeconds));
  const overhead = overheads.reduce((a, b) => a + b, 0) / Math.max(1, overheads.length);
  const planned = plan.partitionObjects as number[];
  const sequential = projectWall({ partitionObjects: [PROJECTED_OBJECTS], workers: 1, pageSeconds, partitionOverheadSeconds: 0, planSeconds: 0, pageSize: PAGE });
  const fanned = projectWall({ partitionObjects: planned, workers: WORKERS, pageSeconds, partitionOverheadSeconds: overhead, planSeconds: plan.planSeconds as number, pageSize: PAGE });

  // The measured 1M run's own partitions, projected as invocations with a vCPU each.
  const projectedMany = projectWall({ partitionObjects: many.partitionListed as number[], workers: WORKERS, pageSeconds, partitionOverheadSeconds: overhead, planSeconds: many.planSeconds as number, pageSize: PAGE });
  const projectedOne = projectWall({ partitionObjects: [MEASURED_OBJECTS], workers: 1, pageSeconds, partitionOverheadSeconds: 0, planSeconds: 0, pageSize: PAGE });
  const speedUp = (one.seconds as number) / (many.seconds as number);
  const threadCpu = many.threadCpuSeconds as number[];
  const threadWaits = many.threadWaitedForCpu as number[];
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const cores = availableParallelism();
  const largest = Math.max(...planned);
  const mean = PROJECTED_OBJECTS / planned.length;
  return [
    {
      scenario: `Backfill of ${n(PROJECTED_OBJECTS)} objects, ${what}: projected wall time`,
      measured:
        `N = ${WORKERS}: ${minutes(fanned.seconds)} (${n(planned.length)} partitions, largest ${(largest / mean).toFixed(2)} × mean, planned in ${(plan.planSeconds as number).toFixed(1)} s, ${n(plan.listRequests as number)} listing request(s); ` +
        `${fanned.invocations} invocations, ${fanned.handOns} hand-ons; longest partition ${minutes(fanned.longestPartitionSeconds)})`,
      baseline: `N = 1: ${minutes(sequential.seconds)} (${sequential.invocations} invocations, ${sequential.handOns} hand-ons)`,
      ratio: `${(sequential.seconds / fanned.seconds).toFixed(1)}×`,
      size:
        `per page ${(pageSeconds * 1000).toFixed(0)} ms (CPU ${(cpuPerPage * 1000).toFixed(0)} ms, waits ${((pageSeconds - cpuPerPage) * 1000).toFixed(0)} ms; measured at N = 1), ` +
        `per partition + ${overhead.toFixed(2)} s (fan-out planned for N = ${WORKERS}, ${n(ALONE_OBJECTS)} objects, ${n(listed.length)} partitions one at a time)`,
      target: '≤ 15 min at N = 16',
      check: { ok: fanned.seconds <= 15 * 60, what: `backfill 10M projected (${layout})` },
    },
    {
      scenario: `Backfill of ${n(MEASURED_OBJECTS)} objects, ${what}: measured on this machine, deployed fan-out at N = ${WORKERS} (a worker thread per invocation slot, state and queues in the main thread)`,
      measured:
        `${(many.seconds as number).toFixed(1)} s (${n(many.partitions as number)} partitions, plan ${(many.planSeconds as number).toFixed(1)} s, ${many.invocations} invocations); ` +
        `CPU per worker thread ${Math.min(...threadCpu).toFixed(2)}–${Math.max(...threadCpu).toFixed(2)} s (${sum(threadCpu).toFixed(1)} s in all), main thread ${(many.mainCpuSeconds as number).toFixed(1)} s, process ${(many.cpuSeconds as number).toFixed(1)} s ` +
        `on ${cores} cores (≥ ${((many.cpuSeconds as number) / cores).toFixed(1)} s of wall); ready but waiting for a core of this shared machine: ${sum(threadWaits).toFixed(1)} s in the worker threads (at most ${Math.max(...threadWaits).toFixed(1)} s one), ${(many.waitedForCpu as number).toFixed(1)} s the main thread`,
      baseline: `N = 1 (the deployed sequential path) ${(one.seconds as number).toFixed(1)} s (${one.invocations} invocation(s); CPU ${(one.cpuSeconds as number).toFixed(1)} s, waiting for a core ${(one.waitedForCpu as number).toFixed(1)} s)`,
      ratio: `${speedUp.toFixed(1)}× speed-up (projected with a vCPU per invocation: ${projectedMany.seconds.toFixed(1)} s, ${(projectedOne.seconds / projectedMany.seconds).toFixed(1)}×)`,
      rss: `${Math.round(Math.max(many.peakRss, many.sampledRss) / 2 ** 20)} MB`,
      size: `${n(many.submitted as number)} submitted in ${n(many.ingests as number)} references files, ${n(many.listRequests as number)} listing requests`,
      target: `≥ ${(0.8 * WORKERS).toFixed(1)}× (0.8 × N)`,
      check: { ok: speedUp >= 0.8 * WORKERS, what: `backfill speed-up at N = ${WORKERS} (${layout})` },
    },
  ];
}

function complete(r: ChildResult, objects: number) {
  if (r.outcome !== 'submitted' || r.submitted !== objects || r.signed !== objects) {
    throw new Error(`backfill of ${objects}: ${r.outcome}, ${r.submitted} submitted, ${r.signed} signed`);
  }
}
