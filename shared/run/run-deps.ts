import { errorMessage } from '../errors';
import { endRunFailed, failRun } from '../pipeline/fail-run';
import type { RunRecord } from '../state/run-record';
import type { BridgeDeps } from './deps';
import type { ServerlessPorts } from './serverless-ports';

/**
 * The ports of a stored run, or undefined when the run cannot go on here: a deployment serves the
 * one target it is configured for, so a run left over from another target is ended failed, with
 * a summary saying why, instead of failing every delivery that touches it.
 */
export async function depsOfRun(ports: ServerlessPorts, run: RunRecord): Promise<BridgeDeps | undefined> {
  const configured = ports.config.target.name;
  if (run.spec.target.name === configured) return ports.depsFor(run.spec);
  const reason = `the run targets ${run.spec.target.name}, but this deployment is now configured for ${configured}`;
  try {
    await endRunFailed({ state: ports.state, log: ports.log, metrics: ports.metrics, dest: ports.storeFor(run.spec.dest) }, run.runId, reason);
  } catch (err) {
    // Its destination may be out of this deployment's reach now: end it in state alone.
    ports.log.warn('summary of a run of another target not written', { runId: run.runId, error: errorMessage(err) });
    await failRun(ports.state, run.runId, reason, ports.metrics);
    ports.log.error('run failed', { runId: run.runId, error: reason });
  }
  return undefined;
}

/** Reads a run and its ports; throws if the run does not exist. */
export async function loadRun(ports: ServerlessPorts, runId: string): Promise<{ run: RunRecord; deps: BridgeDeps | undefined }> {
  const run = await ports.state.getRun(runId);
  if (!run) throw new Error(`run ${runId} not found`);
  return { run, deps: await depsOfRun(ports, run) };
}
