import { countRunStarted, countSubmissionStep } from '../metrics/run-metrics';
import { RunExistsError } from '../state/port';
import type { ServerlessPorts } from './serverless-ports';
import { stamp } from './run-id';
import { withNewestInventory } from './scheduled-inventory';
import { sourceById, specForSource } from './source-spec';
import { preflightSource } from './preflight-source';
import { submitInPartitions } from './partitions/fan-out';
import { loadRun } from './run-deps';
import { createRun } from './start-run';
import { continueSubmission, type SubmitResult } from './submit-run';

/** Run id of a schedule tick: the same tick (a redelivered event) always maps to the same run. */
export function scheduledRunId(sourceId: string, tick: Date): string {
  return `s-${sourceId}-${stamp(tick)}`;
}

/**
 * A scheduled run of one source: after the preflight (nothing is created or submitted when it
 * fails), objects not submitted before (per the ledger) are listed, signed
 * and submitted until `shouldYield` says the invocation is running out of time; the rest continues
 * from the checkpoint in a fresh invocation through the submissions queue. With
 * `discovery.partitions` above 1 the source is planned into partitions instead, each listed by
 * an invocation of its own through the partitions queue (see partitions/fan-out.ts).
 */
export async function runScheduledSource(
  ports: ServerlessPorts,
  sourceId: string,
  tick: Date,
  shouldYield: () => boolean,
): Promise<{ runId: string; result: SubmitResult | 'partitioned' }> {
  const source = sourceById(ports.config, sourceId);
  const spec = await withNewestInventory(ports, source, specForSource(ports.config, source));
  const deps = await ports.depsFor(spec);
  const runId = scheduledRunId(sourceId, tick);
  await preflightSource(ports, deps, spec, sourceId);
  try {
    countRunStarted(ports.metrics, await createRun(deps, spec, runId), 'scheduled');
  } catch (err) {
    if (!(err instanceof RunExistsError)) throw err;
    ports.log.info('schedule tick already has a run; continuing it', { runId });
  }
  // With more than one partition slot (`discovery.partitions`, or the source's `partitions`), each partition is listed by an invocation of its own.
  const partitioned = await submitInPartitions(ports, runId, source.partitions ?? ports.config.discovery.partitions);
  if (partitioned) return { runId, result: partitioned };
  return { runId, result: await submitAndHandOn(ports, runId, shouldYield) };
}

/** Continues a run's submission; hands the rest on when yielding, and asks for the job start when done. */
export async function submitAndHandOn(ports: ServerlessPorts, runId: string, shouldYield: () => boolean): Promise<SubmitResult> {
  const { run, deps } = await loadRun(ports, runId);
  if (!deps) return 'failed';
  const result = await continueSubmission(deps, runId, { shouldYield });
  const after = await ports.state.getRun(runId);
  if (after) countSubmissionStep(ports.metrics, run, after);
  if (result === 'yielded') await ports.queues.submissions.send([{ kind: 'continue', runId }]);
  // Ingest notifications may all have arrived while submission was still going on.
  if (result === 'submitted') await ports.queues.startJob.send([{ kind: 'advance', runId }]);
  return result;
}
