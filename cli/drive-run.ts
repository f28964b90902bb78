import type { Logger } from '../shared/log';
import { buildSummary } from '../shared/pipeline/summary';
import type { BridgeDeps } from '../shared/run/deps';
import { advanceOnWebhooks, runFollowUp } from '../shared/run/follow-up';
import { waitByPolling, waitForWebhooks } from '../shared/run/poll';
import { readRunProgress } from '../shared/run/run-progress';
import { OwnerFiles } from '../shared/state/owner-files';
import type { LocalRunSettings, RunOwner } from '../shared/state/run-owner';
import type { RunRecord, RunSpec } from '../shared/state/run-record';
import { startWebhookServer, type RunningWebhookServer } from '../shared/webhook/http-server';
import { webhookPath } from '../shared/webhook/receive';
import { cliEnvironment, webhookSecret } from './environment';
import type { CliIo } from './io';
import type { DriveOptions } from './options';
import { endRunOnFailure, guardProcess } from './process-guard';
import { cliOutput } from './cli-output';
import { watchProgress } from './progress-watch';
import { takeRun, type Ownership } from './run-ownership';
import { wire } from './wiring';

export interface DrivenRun {
  command: RunOwner['command'];
  runId: string;
  spec: Pick<RunSpec, 'source' | 'dest' | 'target' | 'inventory'>;
}

/** What the command's first step found: the run must be waited on by polling (see resumeRun). */
export interface StartOutcome {
  pollOnly?: boolean;
}

export interface StartContext {
  deps: BridgeDeps;
  log: Logger;
  /**
   * Makes this process the run's owner (refused while another live process drives it). Called once
   * the run exists, so bad input that ends the command before that leaves nothing behind.
   */
  own(): Promise<void>;
}

/**
 * One run driven to its end by this CLI process (`run`, `resume`): wires its ports, owns the run
 * in the state folder (heartbeat; the failure is recorded if the process fails), receives webhooks
 * or polls, and prints the summary. Exit 0 only when the results are in the destination.
 */
export async function driveRun(
  io: CliIo,
  run: DrivenRun,
  options: DriveOptions,
  start: (context: StartContext) => Promise<StartOutcome>,
): Promise<number> {
  const env = cliEnvironment(io.env, run.spec.target.name);
  const { log, view } = cliOutput(io, options);
  const secret = options.webhook ? webhookSecret(env) : undefined;
  const stateDir = options.stateDir ?? env.BUCKET_BRIDGE_STATE_DIR;
  const deps = {
    ...wire(
      {
        env,
        processEnv: io.env,
        log,
        progress: view.listener,
        target: run.spec.target,
        stateDir,
        webhook: options.webhook && secret ? { notificationsUrl: `${options.webhook.publicUrl}${webhookPath(secret)}` } : undefined,
        storage: options.storage,
        allowHttpReferences: options.allowHttpReferences,
        inventoryBucket: run.spec.inventory?.bucket ?? options.inventoryBucket,
      },
      run.spec.source,
      run.spec.dest,
    ),
    pageSize: options.pageSize,
    chunkSize: options.chunkSize,
    listConcurrency: options.concurrency,
  };

  let ownership: Ownership | undefined;
  const own = async () => {
    ownership ??= await takeRun(new OwnerFiles(stateDir), run.runId, run.command, localSettings(options), log);
  };
  let server: RunningWebhookServer | undefined;
  const untilEnded = async (): Promise<RunRecord> => {
    const started = await start({ deps, log, own });
    const wait = { intervalMs: options.pollIntervalMs, timeoutMs: options.timeoutMs };
    if (!options.webhook || started.pollOnly) return waitByPolling(deps, run.runId, wait);
    // Every ingest notification may have arrived while we were still submitting.
    await advanceOnWebhooks(deps, run.runId);
    const finished = await waitForWebhooks(deps, run.runId, wait);
    await server?.idle();
    return finished;
  };
  const guard = guardProcess(log);
  const watch = options.quiet
    ? undefined
    : watchProgress(
        async () => {
          const current = await deps.state.getRun(run.runId);
          return current && readRunProgress(deps.state, deps.target, current);
        },
        view.update,
        options.progressIntervalMs,
      );
  try {
    if (options.webhook && secret) {
      server = await startWebhookServer(deps, {
        secret,
        host: options.webhook.host,
        port: options.webhook.port,
        onFollowUp: (f) => runFollowUp(deps, f),
      });
      log.info('waiting on webhooks', { listen: server.url });
    }
    const finished = await guard.during(untilEnded()).catch((err) => endRunOnFailure(deps, run.runId, err));
    watch?.stop();
    // The export's last numbers (a run that failed before it keeps its last line).
    if (finished.phase === 'completed' || finished.exportTasks !== undefined) view.update(await readRunProgress(deps.state, undefined, finished));
    view.finish();
    const summary = await buildSummary(deps.state, finished);
    io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    if (finished.phase !== 'completed') {
      io.stderr.write(`run ${finished.runId} failed: ${finished.error ?? 'unknown reason'}\n`);
      return 1;
    }
    io.stderr.write(`results: ${summary.destination} (${summary.exported.files} files)\n`);
    return 0;
  } catch (err) {
    await ownership?.release(err);
    throw err;
  } finally {
    guard.release();
    watch?.stop();
    await ownership?.release();
    view.finish();
    await server?.close();
  }
}

/** What a later `resume` needs to go on alike (no secrets: GCS credentials only by where they are). */
function localSettings(options: DriveOptions): LocalRunSettings {
  const { source, dest, gcs } = options.storage;
  return {
    pageSize: options.pageSize,
    chunkSize: options.chunkSize,
    allowHttpReferences: options.allowHttpReferences,
    storage: { source: { ...source }, dest: { ...dest }, gcs: { ...gcs } },
  };
}
