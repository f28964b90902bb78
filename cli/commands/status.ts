import { buildSummary, type RunSummary } from '../../shared/pipeline/summary';
import { FileStateStore } from '../../shared/state/file-state';
import { OwnerFiles } from '../../shared/state/owner-files';
import { ownerState } from '../../shared/state/run-owner';
import type { RunRecord } from '../../shared/state/run-record';
import { DEFAULT_STATE_DIR } from '../environment';
import type { CliIo } from '../io';
import { parseFlags, runIdArgument } from '../options';
import { localProbe } from '../run-ownership';

/**
 * `bucket-bridge status <runId>`: the run's summary from local state. A run that has not ended is
 * `in-progress` only while a process drives it; once its process failed or was killed it is
 * `interrupted`, with the reason and the command that continues it.
 */
export async function statusCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'state-dir': { type: 'string' } });
  const runId = runIdArgument(positionals);
  const stateDir = values['state-dir'] ?? io.env.BUCKET_BRIDGE_STATE_DIR ?? DEFAULT_STATE_DIR;
  const state = new FileStateStore(stateDir);
  const run = await state.getRun(runId);
  if (!run) {
    io.stderr.write(`no run ${runId} in this state folder\n`);
    return 1;
  }
  const summary = await withOwner(await buildSummary(state, run), run, new OwnerFiles(stateDir));
  io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
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
