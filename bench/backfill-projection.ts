import { MODEL } from './backfill-model';

export interface ProjectionInput {
  /** Objects of each partition, in the order their messages are sent (one partition: the sequential path). */
  partitionObjects: number[];
  /** Partitions worked on at once (Lambda invocations). */
  workers: number;
  /** Wall seconds one worker spends per listing page of `pageSize` objects (list, name, sign, state, references file, ingest). */
  pageSeconds: number;
  /** Wall seconds a partition costs beyond its pages (claim, run read, its own references file and ingest request, completion). */
  partitionOverheadSeconds: number;
  /** Planning before the first partition starts. */
  planSeconds: number;
  pageSize: number;
}

export interface Projection {
  seconds: number;
  invocations: number;
  handOns: number;
  longestPartitionSeconds: number;
}

/**
 * Wall time of a backfill on the latency model, from measured per-page and per-partition costs:
 * each partition takes its overhead plus its pages; one that outlasts an invocation's budget
 * (less the minute kept to hand on) continues in fresh invocations, each hand-on adding
 * MODEL.handOnMs; partitions are taken in order by whichever of the `workers` is free first
 * (as queue messages are), and the run ends when the last partition does.
 */
export function projectWall(input: ProjectionInput): Projection {
  const budget = (MODEL.invocationMinutes - 1) * 60;
  const free = new Array<number>(input.workers).fill(input.planSeconds);
  let invocations = 0;
  let handOns = 0;
  let longest = 0;
  for (const objects of input.partitionObjects) {
    const work = input.partitionOverheadSeconds + Math.ceil(objects / input.pageSize) * input.pageSeconds;
    const slices = Math.max(1, Math.ceil(work / budget));
    const seconds = work + (slices - 1) * (MODEL.handOnMs / 1000);
    invocations += slices;
    handOns += slices - 1;
    longest = Math.max(longest, seconds);
    const slot = free.indexOf(Math.min(...free));
    free[slot]! += seconds;
  }
  return { seconds: Math.max(...free), invocations, handOns, longestPartitionSeconds: longest };
}
