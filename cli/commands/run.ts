import { jsonLogger } from '../../shared/log';
import { buildSummary } from '../../shared/pipeline/summary';
import { waitByPolling, waitForWebhooks } from '../../shared/run/poll';
import { startRun } from '../../shared/run/start-run';
import { startWebhookServer, type RunningWebhookServer } from '../../shared/webhook/http-server';
import { webhookPath } from '../../shared/webhook/receive';
import { cliEnvironment, webhookSecret } from '../environment';
import type { CliIo } from '../io';
import { runOptions } from '../options';
import { progressView } from '../progress-view';
import { wire } from '../wiring';
import { advanceOnWebhooks, runFollowUp } from '../../shared/run/follow-up';

/** `bucket-bridge run`: the whole loop. Exit 0 only when the results are in the destination. */
export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const options = runOptions(argv);
  const env = cliEnvironment(io.env, options.spec.target.name);
  const log = jsonLogger(options.quiet ? 'warn' : 'info', (line) => io.stderr.write(line + '\n'));
  const view = progressView(io.stderr, !options.quiet);
  const secret = options.webhook ? webhookSecret(env) : undefined;
  const deps = {
    ...wire(
      {
        env,
        processEnv: io.env,
        log,
        progress: view.listener,
        target: options.spec.target,
        stateDir: options.stateDir,
        webhook: options.webhook && secret ? { notificationsUrl: `${options.webhook.publicUrl}${webhookPath(secret)}` } : undefined,
        storage: options.storage,
      },
      options.spec.source,
      options.spec.dest,
    ),
    pageSize: options.pageSize,
    chunkSize: options.chunkSize,
  };

  let server: RunningWebhookServer | undefined;
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
    const started = await startRun(deps, options.spec);
    log.info('run started', { runId: started.runId, batchId: started.batchId, jobId: started.jobId });
    const wait = { intervalMs: options.pollIntervalMs, timeoutMs: options.timeoutMs };
    let finished;
    if (options.webhook) {
      // Every ingest notification may have arrived while we were still submitting.
      await advanceOnWebhooks(deps, started.runId);
      finished = await waitForWebhooks(deps, started.runId, wait);
      await server?.idle();
    } else {
      finished = await waitByPolling(deps, started.runId, wait);
    }
    view.finish();
    const summary = await buildSummary(deps.state, finished);
    io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    if (finished.phase !== 'completed') {
      io.stderr.write(`run ${finished.runId} failed: ${finished.error ?? 'unknown reason'}\n`);
      return 1;
    }
    io.stderr.write(`results: ${summary.destination} (${summary.exported.files} files)\n`);
    return 0;
  } finally {
    view.finish();
    await server?.close();
  }
}
