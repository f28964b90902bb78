import { errorMessage } from '../../shared/errors';
import { silentLogger } from '../../shared/log';
import { buildSummary, type RunSummary } from '../../shared/pipeline/summary';
import { readRunProgress, type RunProgress } from '../../shared/run/run-progress';
import { FileStateStore } from '../../shared/state/file-state';
import { OwnerFiles } from '../../shared/state/owner-files';
import { ownerState } from '../../shared/state/run-owner';
import type { RunRecord } from '../../shared/state/run-record';
import type { BatchTarget } from '../../shared/targets/port';
import { cliEnvironment, DEFAULT_STATE_DIR } from '../environment';
import type { CliIo } from '../io';
import { parseFlags, runIdArgument } from '../options';
import { progressReport, renderProgress, zeroCounters, count, formatBytes } from '../progress-line';
import { localProbe } from '../run-ownership';
import { targetFor } from '../target-wiring';

/**
 * `bucket-bridge status <runId>`: the run's summary from local state. A run that has not ended is
 * `in-progress` only while a process drives it; once its process failed or was killed it is
 * `interrupted`, with the reason and the command that continues it. A run not ended (either way)
 * goes on at the target, which is asked how far it is. Text for people on a terminal; JSON (the
 * summary with `progress`) with `--json` or when stdout is not a terminal.
 */
export async function statusCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'state-dir': { type: 'string' }, json: { type: 'boolean', default: false } });
  const runId = runIdArgument(positionals);
  const stateDir = values['state-dir'] ?? io.env.BUCKET_BRIDGE_STATE_DIR ?? DEFAULT_STATE_DIR;
  const state = new FileStateStore(stateDir);
  const run = await state.getRun(runId);
  if (!run) {
    io.stderr.write(`no run ${runId} in this state folder\n`);
    return 1;
  }
  const summary = await withOwner(await buildSummary(state, run), run, new OwnerFiles(stateDir));
  const ended = run.phase === 'completed' || run.phase === 'failed';
  const live = ended ? undefined : await liveProgress(io, state, run);
  if (values.json || !io.stdout.isTTY) io.stdout.write(JSON.stringify(live ? { ...summary, progress: live } : summary, null, 2) + '\n');
  else io.stdout.write(statusText(summary, live));
  if (summary.interruption) io.stderr.write(`run ${runId} is interrupted: ${summary.interruption.reason}; continue it with \`bucket-bridge resume ${runId}\`\n`);
  return 0;
}

async function withOwner(summary: RunSummary, run: RunRecord, owners: OwnerFiles): Promise<RunSummary> {
  if (summary.status !== 'in-progress') return summary;
  const owner = await owners.get(run.runId);
  // Runs from before owners were recorded cannot be told apart: they stay in-progress.
  if (!owner) return summary;
  const found = ownerState(owner, localProbe());
  if (found.state === 'running') return summary;
  const reason = found.reason ?? `the ${owner.command} process ended without finishing it`;
  return { ...summary, status: 'interrupted', interruption: { reason, at: found.at } };
}

/** The run's progress, with the target's own account when its key is in the environment. */
async function liveProgress(io: CliIo, state: FileStateStore, run: RunRecord): Promise<RunProgress> {
  let target: BatchTarget | undefined;
  let unavailable: string | undefined;
  try {
    target = targetFor(run.spec.target, cliEnvironment(io.env, run.spec.target.name), silentLogger);
  } catch (err) {
    unavailable = `the target was not asked: ${errorMessage(err)}`;
  }
  const progress = await readRunProgress(state, target, run);
  return unavailable ? { ...progress, targetError: unavailable } : progress;
}

/** The summary and live progress for people, a few lines. */
function statusText(summary: RunSummary, live: RunProgress | undefined): string {
  const lines = [
    `run ${summary.runId}: ${summary.status}${live ? ` (${live.phase})` : ''}`,
    `  ${summary.source} → ${summary.destination} (${summary.target.name})`,
    `  listed ${count(summary.listed)} · submitted ${count(summary.submitted)}` +
      `${summary.ingested === undefined ? '' : ` · ingested ${count(summary.ingested)}`} · failed ${count(summary.failed.total)}`,
  ];
  if (live) lines.push(`  ${renderProgress(progressReport(zeroCounters(), live))}`);
  if (live?.targetError) lines.push(`  (live progress unavailable: ${live.targetError})`);
  if (summary.status === 'completed' || summary.exported.files > 0) lines.push(`  exported ${count(summary.exported.files)} files, ${formatBytes(summary.exported.bytes)}`);
  if (summary.error) lines.push(`  error: ${summary.error}`);
  return lines.join('\n') + '\n';
}
