import { InputError } from '../../shared/errors';
import { buildSummary } from '../../shared/pipeline/summary';
import { FileStateStore } from '../../shared/state/file-state';
import { DEFAULT_STATE_DIR } from '../environment';
import type { CliIo } from '../io';
import { parseFlags } from '../options';

/** `bucket-bridge status <runId>`: the run's summary from local state. */
export async function statusCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'state-dir': { type: 'string' } });
  const runId = positionals[0];
  if (!runId || positionals.length > 1 || !/^[a-z0-9_-]+$/.test(runId)) throw new InputError('runId', 'one run id, e.g. 20261123-154012-k3x9qa', positionals.join(' '));
  const state = new FileStateStore(values['state-dir'] ?? io.env.BUCKET_BRIDGE_STATE_DIR ?? DEFAULT_STATE_DIR);
  const run = await state.getRun(runId);
  if (!run) {
    io.stderr.write(`no run ${runId} in this state folder\n`);
    return 1;
  }
  io.stdout.write(JSON.stringify(await buildSummary(state, run), null, 2) + '\n');
  return 0;
}
