import { endRunFailed } from '../../pipeline/fail-run';
import type { PartitionMessage } from '../../runtime/messages';
import { loadRun } from '../run-deps';
import type { ServerlessPorts } from '../serverless-ports';
import { sendLost } from './fan-out';
import { joinPartitions } from './join';

/** Sweeps of one run before it is given up (with the default 5 minutes between them, a day). */
export const MAX_SWEEP_ROUNDS = 288;

/**
 * One sweep of a partitioned run, while its submission is not complete: when every partition is
 * done the run is joined (in case the last completion's join was lost); otherwise the lost
 * messages are sent again (see sendLost: a holder that died, or nothing held while partitions are
 * left) and the next sweep is scheduled. A run still not joined after MAX_SWEEP_ROUNDS sweeps ends failed.
 */
export async function sweepPartitions(ports: ServerlessPorts, message: Extract<PartitionMessage, { kind: 'sweep' }>): Promise<void> {
  const { run, deps } = await loadRun(ports, message.runId);
  if (!deps || run.partitions?.plan !== message.plan || run.phase !== 'discovering' || run.submissionComplete) return;
  const { plan, total } = run.partitions;
  let done = 0;
  for await (const p of ports.state.partitions.list(run.runId, plan)) if (p.status === 'done') done++;
  if (done >= total) {
    await joinPartitions(ports, deps, run.runId, plan);
    return;
  }
  if (message.round + 1 >= MAX_SWEEP_ROUNDS) {
    await endRunFailed(deps, run.runId, `submission gave up: ${total - done} of ${total} partitions not submitted after ${MAX_SWEEP_ROUNDS} sweeps`);
    return;
  }
  const resent = await sendLost(ports, run.runId, plan);
  if (resent.length > 0) ports.log.warn('partition messages sent again', { runId: run.runId, partitions: resent, done, total });
  await ports.queues.partitions.send([{ ...message, round: message.round + 1 }], { delaySeconds: ports.config.discovery.sweepSeconds });
}
