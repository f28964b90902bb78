import { randomBytes } from 'node:crypto';
import { describePartition } from '../../pipeline/partition/descriptor';
import { planInventoryPartitions } from '../../pipeline/partition/inventory-plan';
import { planPartitions } from '../../pipeline/partition/plan';
import type { PartitionMessage } from '../../runtime/messages';
import type { PartitionPlan } from '../../state/partition-store';
import type { RunRecord } from '../../state/run-record';
import type { BridgeDeps } from '../deps';
import { loadRun } from '../run-deps';
import type { ServerlessPorts } from '../serverless-ports';
import { submissionSizes } from '../submission-loop';

/** Partitions planned per partition listed at once: uneven partitions still keep every slot busy. */
export const PARTITIONS_PER_SLOT = 4;
/**
 * Listing requests at once while planning: one invocation's short probes, whatever the number of
 * slots (S3 takes thousands of listing requests a second per prefix); each round of probes waits
 * for its slowest, so more at once means fewer rounds.
 */
export const PLANNING_CONCURRENCY = 32;

/**
 * Splits a scheduled run's source into partitions (see pipeline/partition/plan.ts) and fans them
 * out: one item per partition, the plan sealed in the run record, a sweep scheduled, then one
 * message per partition on the partitions queue. Planning is idempotent: items are written under
 * a fresh plan id and only the plan whose seal lands is used (a planner that loses the seal, to a
 * concurrent copy of the tick, removes its items; one that dies before sealing leaves items
 * nothing reads), so a retried or duplicated planner neither loses nor doubles a partition. Once
 * sealed, a repeat only sends again what is lost (see sendLost, as the sweep does).
 */
export async function fanOut(ports: ServerlessPorts, deps: BridgeDeps, run: RunRecord, slots: number): Promise<PartitionPlan> {
  const sealed = run.partitions ?? (await planAndSeal(ports, deps, run, slots));
  const { plan, total } = sealed;
  await ports.queues.partitions.send([{ kind: 'sweep', runId: run.runId, plan, round: 0 } satisfies PartitionMessage], {
    delaySeconds: ports.config.discovery.sweepSeconds,
  });
  const sent = await sendLost(ports, run.runId, plan);
  ports.log.info('partitions sent', { runId: run.runId, partitions: total, sent: sent.length });
  return sealed;
}

async function planAndSeal(ports: ServerlessPorts, deps: BridgeDeps, run: RunRecord, slots: number): Promise<PartitionPlan> {
  const started = Date.now();
  // Planning listings take the deployment's page size too (some S3-compatible stores list fewer).
  const { pageSize } = submissionSizes(deps, run.spec);
  // A run that reads an S3 Inventory report has a partition per data file, and no listing.
  const planned = run.spec.inventory
    ? await planInventoryPartitions(deps.inventory, run.spec.inventory, run.spec.source)
    : await planPartitions(deps.source, run.spec.source.prefix, {
        target: slots * PARTITIONS_PER_SLOT,
        concurrency: PLANNING_CONCURRENCY,
        pageSize,
      });
  const plan = randomBytes(6).toString('hex');
  await ports.state.partitions.save(run.runId, plan, planned.map((p, index) => ({ index, descriptor: describePartition(p) })));
  const sealed = await ports.state.updateRun(run.runId, (r) => (r.partitions ? r : { ...r, partitions: { plan, total: planned.length } }));
  ports.log.info('source split into partitions', { runId: run.runId, partitions: planned.length, slots, ms: Date.now() - started });
  if (sealed.partitions!.plan !== plan) await ports.state.partitions.discard(run.runId, plan);
  return sealed.partitions!;
}

/**
 * Sends again the messages that are lost, and returns their partitions' indexes: a partition whose
 * holder's lease lapsed (it died: its partition is sent again at once), and, when no partition is
 * held at all (so nothing is being worked on), every partition not done. While some are held,
 * messages of partitions nobody holds may just be queued behind them (at most `maxConcurrency` run
 * at once), so they are left alone. A copy of a message still queued is harmless: the first to
 * claim the partition works on it, the others find it held or done.
 */
export async function sendLost(ports: ServerlessPorts, runId: string, plan: string, now = Date.now()): Promise<number[]> {
  const lapsed: number[] = [];
  const unheld: number[] = [];
  let held = 0;
  for await (const p of ports.state.partitions.list(runId, plan)) {
    if (p.status === 'done') continue;
    if (p.lease && p.lease.until >= now) held++;
    else (p.lease ? lapsed : unheld).push(p.index);
  }
  const lost = held > 0 ? lapsed : [...lapsed, ...unheld].sort((a, b) => a - b);
  await ports.queues.partitions.send(lost.map((partition) => ({ kind: 'partition', runId, plan, partition }) satisfies PartitionMessage));
  return lost;
}

/**
 * A scheduled run's submission in `slots` partitions at once (or in the partitions it was planned
 * in before): undefined when the run goes on as one listing (one slot, or a listing already under
 * way) or has nothing left to submit.
 */
export async function submitInPartitions(ports: ServerlessPorts, runId: string, slots: number): Promise<'partitioned' | undefined> {
  const { run, deps } = await loadRun(ports, runId);
  if (!deps || run.phase !== 'discovering' || run.submissionComplete) return undefined;
  const listingUnderway = run.checkpoint.nextToken !== undefined || run.checkpoint.nextChunk > 0;
  if (!run.partitions && ((slots <= 1 && !run.spec.inventory) || listingUnderway)) return undefined;
  await fanOut(ports, deps, run, slots);
  return 'partitioned';
}
