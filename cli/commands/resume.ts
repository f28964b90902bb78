import { buildSummary } from '../../shared/pipeline/summary';
import { resumeRun } from '../../shared/run/resume-run';
import { FileStateStore } from '../../shared/state/file-state';
import { OwnerFiles } from '../../shared/state/owner-files';
import type { LocalRunSettings } from '../../shared/state/run-owner';
import type { RunRecord } from '../../shared/state/run-record';
import { DEFAULT_STATE_DIR } from '../environment';
import type { CliIo } from '../io';
import { LOG_FLAGS, logFormat, parseFlags, runIdArgument, STORAGE_FLAGS, storageOptions, waitOptions, WAIT_FLAGS, type CliStorageOptions } from '../options';
import { driveRun } from '../drive-run';

/**
 * `bucket-bridge resume <runId>`: continues an unfinished run from local state with the settings it
 * was started with (its record and its last owner's), the target's key from the environment as for
 * `run`. Storage flags given here override the recorded ones; how to wait is chosen anew.
 */
export async function resumeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...WAIT_FLAGS,
    ...STORAGE_FLAGS,
    ...LOG_FLAGS,
    'allow-http-references': { type: 'boolean', default: false },
    'state-dir': { type: 'string' },
    quiet: { type: 'boolean', default: false },
  });
  const runId = runIdArgument(positionals);
  const wait = waitOptions(values);
  const stateDir = values['state-dir'] ?? io.env.BUCKET_BRIDGE_STATE_DIR ?? DEFAULT_STATE_DIR;
  const state = new FileStateStore(stateDir);
  const run = await state.getRun(runId);
  if (!run) {
    io.stderr.write(`no run ${runId} in this state folder (${stateDir})\n`);
    return 1;
  }
  if (run.phase === 'completed' || run.phase === 'failed') return alreadyEnded(io, state, run);

  const recorded = (await new OwnerFiles(stateDir).get(runId))?.settings ?? {};
  const storage = withRecorded(storageOptions(values, run.spec), recorded.storage);
  const options = {
    ...wait,
    pageSize: recorded.pageSize,
    chunkSize: recorded.chunkSize,
    allowHttpReferences: values['allow-http-references'] || recorded.allowHttpReferences,
    stateDir,
    quiet: values.quiet,
    logFormat: logFormat(values['log-format']),
    storage,
  };
  return driveRun(io, { command: 'resume', runId, spec: run.spec }, options, async ({ deps, own }) => {
    await own();
    // Name mappings past the checkpoint belong to the chunk that is built again now.
    if (run.phase === 'discovering') await state.keepFirstNames(runId, (await state.getRun(runId))!.submitted);
    const resumed = await resumeRun(deps, runId);
    return { pollOnly: resumed.awaitsEarlierProcess };
  });
}

/** Flags given now win; anything not given is as the run was started. */
function withRecorded(flags: CliStorageOptions, recorded: LocalRunSettings['storage']): CliStorageOptions {
  if (!recorded) return flags;
  const location = (side: 'source' | 'dest') => ({
    region: flags[side].region ?? recorded[side].region,
    requesterPays: flags[side].requesterPays ?? recorded[side].requesterPays,
  });
  return {
    source: location('source'),
    dest: location('dest'),
    gcs: {
      keyFile: flags.gcs.keyFile ?? recorded.gcs.keyFile,
      signAs: flags.gcs.signAs ?? recorded.gcs.signAs,
      userProject: flags.gcs.userProject ?? recorded.gcs.userProject,
    },
  };
}

async function alreadyEnded(io: CliIo, state: FileStateStore, run: RunRecord): Promise<number> {
  io.stdout.write(JSON.stringify(await buildSummary(state, run), null, 2) + '\n');
  const hint = run.phase === 'failed' && run.jobStarted ? `; copy its results again with \`bucket-bridge export ${run.jobId}\`` : '';
  io.stderr.write(`run ${run.runId} already ended (${run.phase}): nothing to resume${hint}\n`);
  return run.phase === 'completed' ? 0 : 1;
}
