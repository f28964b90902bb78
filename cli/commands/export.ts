import { InputError } from '../../shared/errors';
import { parseBucketUrl } from '../../shared/location';
import { exportResults } from '../../shared/pipeline/export';
import { buildSummary } from '../../shared/pipeline/summary';
import { reopenExport } from '../../shared/run/resume-run';
import { readRunProgress } from '../../shared/run/run-progress';
import { FileStateStore } from '../../shared/state/file-state';
import { JobId } from '../../shared/targets/roboflow/ids';
import { cliEnvironment } from '../environment';
import type { CliIo } from '../io';
import { cliOutput } from '../cli-output';
import { check, LOG_FLAGS, logFormat, parseFlags, STORAGE_FLAGS, storageOptions } from '../options';
import { wire } from '../wiring';

/** `bucket-bridge export <jobId>`: copies a finished job's results again (e.g. after a failure). */
export async function exportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    dest: { type: 'string' },
    'keep-archives': { type: 'boolean' },
    'state-dir': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    ...LOG_FLAGS,
    'dest-region': STORAGE_FLAGS['dest-region'],
    'dest-requester-pays': STORAGE_FLAGS['dest-requester-pays'],
    'gcs-key-file': STORAGE_FLAGS['gcs-key-file'],
    'gcs-sign-as': STORAGE_FLAGS['gcs-sign-as'],
    'gcs-user-project': STORAGE_FLAGS['gcs-user-project'],
  });
  if (positionals.length !== 1) throw new InputError('jobId', 'exactly one job id', positionals.join(' '));
  const jobId = check('jobId', JobId, positionals[0], 'a job id of lowercase letters, digits, - and _ (at most 20)');
  const dest = values.dest === undefined ? undefined : parseBucketUrl('--dest', values.dest);
  const env = cliEnvironment(io.env);
  const stateDir = values['state-dir'] ?? env.BUCKET_BRIDGE_STATE_DIR;
  const known = await new FileStateStore(stateDir).findRunByJobId(jobId);
  if (!known) {
    io.stderr.write(`job ${jobId} was not started from this state folder (${stateDir}); run the export from where \`run\` ran\n`);
    return 1;
  }
  const { log, view } = cliOutput(io, { quiet: values.quiet ?? false, logFormat: logFormat(values['log-format']) });
  const spec = { ...known.spec, dest: dest ?? known.spec.dest, keepArchives: values['keep-archives'] ?? known.spec.keepArchives };
  const storage = storageOptions(values, { dest: spec.dest });
  const deps = wire(
    { env, processEnv: io.env, log, progress: view.listener, target: spec.target, stateDir, storage, sourceUnused: true },
    spec.source,
    spec.dest,
  );
  await reopenExport(deps.state, known.runId, (r) => ({ ...r, spec }));
  const result = await exportResults(deps, known.runId);
  const run = (await deps.state.getRun(known.runId))!;
  view.update(await readRunProgress(deps.state, undefined, run));
  view.finish();
  io.stdout.write(JSON.stringify(await buildSummary(deps.state, run), null, 2) + '\n');
  if (result === 'pending') io.stderr.write(`job ${jobId} has not finished yet\n`);
  return result === 'completed' ? 0 : 1;
}
