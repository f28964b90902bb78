import type { RunSummary } from '../pipeline/summary';
import type { RunRecord } from '../state/run-record';
import type { Metrics } from './port';

/** The part of a webhook's reply that says how it went (see webhook/receive). */
type WebhookReply = { status: number; body: { outcome?: string } };

/**
 * What the use cases count, each at the point where it happens (see the catalogue for the
 * metrics). A missing metrics port (the CLI's runs, tests) counts nothing.
 */

type Phase = RunRecord['phase'];

/** When a run entered each phase it can leave (the run record's timings). */
function phaseStart(run: RunRecord, phase: Phase): string | undefined {
  switch (phase) {
    case 'discovering':
      return run.createdAt;
    case 'ingesting':
      return run.timings.submittedAt;
    case 'processing':
      return run.timings.jobStartedAt;
    case 'exporting':
      return run.timings.jobFinishedAt;
    default:
      return undefined;
  }
}

export type RunTrigger = 'scheduled' | 'object-created';

export function countRunStarted(metrics: Metrics | undefined, run: Pick<RunRecord, 'runId' | 'spec'>, trigger: RunTrigger): void {
  metrics?.add('RunsStarted', 1, { Target: run.spec.target.name, Trigger: trigger }, run.runId);
}

/** The time the run spent in `phase`, which it left at `leftAt`. */
export function countPhaseLeft(metrics: Metrics | undefined, run: RunRecord, phase: Phase, leftAt: string | undefined): void {
  const start = phaseStart(run, phase);
  if (!metrics || !start || !leftAt) return;
  const ms = Date.parse(leftAt) - Date.parse(start);
  if (Number.isFinite(ms) && ms >= 0) metrics.add('PhaseDuration', ms, { Target: run.spec.target.name, Phase: phase }, run.runId);
}

export type DiscoveryCounts = Pick<RunRecord, 'listed' | 'skipped' | 'submitted'>;

/** A copy of checkpointed counts (the discovery loop goes on changing its own). */
export function discoveryCounts(counts: DiscoveryCounts): DiscoveryCounts {
  return { listed: counts.listed, submitted: counts.submitted, skipped: { ...counts.skipped } };
}

/** What discovery added since `before` (both checkpointed counts), so a resumed listing counts each object once. */
export function countDiscovered(metrics: Metrics | undefined, run: Pick<RunRecord, 'runId' | 'spec'>, before: DiscoveryCounts, after: DiscoveryCounts): void {
  if (!metrics) return;
  const Target = run.spec.target.name;
  if (after.listed > before.listed) metrics.add('ObjectsListed', after.listed - before.listed, { Target }, run.runId);
  if (after.submitted > before.submitted) metrics.add('ObjectsSubmitted', after.submitted - before.submitted, { Target }, run.runId);
  for (const [reason, count] of Object.entries(after.skipped)) {
    const added = count - (before.skipped[reason] ?? 0);
    if (added > 0) metrics.add('ObjectsSkipped', added, { Target, Reason: reason }, run.runId);
  }
}

/**
 * A run that just ended (`final`, left `phaseLeft`): its outcome, the time in its last phase, and
 * from its summary the objects that failed (by stage) and the result files copied and failed,
 * counted once, when the run ends.
 */
export function countRunEnded(metrics: Metrics | undefined, final: RunRecord, phaseLeft: Phase, summary: RunSummary): void {
  if (!metrics) return;
  const Target = final.spec.target.name;
  metrics.add(final.phase === 'completed' ? 'RunsCompleted' : 'RunsFailed', 1, { Target }, final.runId);
  countPhaseLeft(metrics, final, phaseLeft, final.timings.finishedAt);
  for (const [stage, count] of Object.entries(summary.failed.byStage)) {
    if (count > 0) metrics.add('ObjectsFailed', count, { Target, Stage: stage }, final.runId);
  }
  if (summary.exported.files > 0) metrics.add('ResultFilesCopied', summary.exported.files, { Target }, final.runId);
  if (summary.exported.bytes > 0) metrics.add('ResultBytesCopied', summary.exported.bytes, { Target }, final.runId);
  const filesFailed = summary.failed.byStage.export ?? 0;
  if (filesFailed > 0) metrics.add('ResultFilesFailed', filesFailed, { Target }, final.runId);
}

export type WebhookOutcome = 'handled' | 'duplicate' | 'ignored' | 'in-progress' | 'rejected' | 'failed';

/** A webhook delivery's outcome, from the reply the sender gets. */
export function webhookOutcome(reply: WebhookReply): WebhookOutcome {
  const { outcome } = reply.body;
  if (outcome === 'recorded') return 'handled';
  if (outcome === 'duplicate' || outcome === 'ignored' || outcome === 'in-progress') return outcome;
  return reply.status >= 500 ? 'failed' : 'rejected';
}

export function countWebhook(metrics: Metrics | undefined, target: string, reply: WebhookReply): void {
  metrics?.add('WebhookOutcomes', 1, { Target: target, Outcome: webhookOutcome(reply) });
}

/**
 * One submission step of a run (an invocation's share of its discovery), from the run as it was
 * before to the run after: the objects it listed, skipped and submitted (checkpointed counts).
 */
export function countSubmissionStep(metrics: Metrics | undefined, before: RunRecord, after: RunRecord): void {
  countDiscovered(metrics, after, before, after);
}
