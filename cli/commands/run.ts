import { newRunId } from '../../shared/run/run-id';
import { startRun } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { OwnerFiles } from '../../shared/state/owner-files';
import { cliEnvironment } from '../environment';
import type { CliIo } from '../io';
import { runOptions } from '../options';
import { driveRun } from '../drive-run';
import { warnUnfinishedRuns } from '../unfinished-runs';

/** `bucket-bridge run`: the whole loop. Exit 0 only when the results are in the destination. */
export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const options = runOptions(argv);
  const stateDir = options.stateDir ?? cliEnvironment(io.env, options.spec.target.name).BUCKET_BRIDGE_STATE_DIR;
  const runId = newRunId();
  return driveRun(io, { command: 'run', runId, spec: options.spec }, { ...options, stateDir }, async ({ deps, log, own }) => {
    await warnUnfinishedRuns(new FileStateStore(stateDir), new OwnerFiles(stateDir), options.spec, log);
    const started = await startRun(deps, options.spec, runId, { onCreated: own });
    log.info('run started', { runId: started.runId, batchId: started.batchId, jobId: started.jobId });
    return {};
  });
}
