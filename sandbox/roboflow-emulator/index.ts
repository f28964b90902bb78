/**
 * Local emulator of Roboflow's Data Staging + Batch Processing HTTP API, for demos and end-to-end tests.
 * See README.md in this folder for the emulated contract and its simplifications.
 */
import { createHash } from 'node:crypto';
import { listen } from '../emulator-kit/listen';
import { TaskScope } from '../emulator-kit/task-scope';
import type { EmulatorContext } from './context';
import { UrlSigner } from './downloads';
import { FaultInjector } from './faults';
import { createEmulatorServer } from './server';
import { Store } from './store';
import type { EmulatorOptions, RecordedRequest, ResolvedOptions, RunningEmulator, WebhookDelivery } from './types';
import { UPLOAD_PREFIX } from './upload-puts';
import { WebhookSender } from './webhooks';

export type { EmulatorFaults, EmulatorOptions, RecordedRequest, RunningEmulator, WebhookDelivery } from './types';
export { FAIL_WORKFLOW_ID } from './jobs';
export { EXPORT_PART_NAMES } from './job-outputs';
export { SHARD_STATUS } from './ingest';
export { SIGNED_URL_INGEST_REFUSAL } from './plan';

export async function startRoboflowEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const options = resolveOptions(opts);
  let baseUrl = '';
  const scope = new TaskScope();
  const faults = new FaultInjector(opts.faults);
  const requests: RecordedRequest[] = [];
  const webhookDeliveries: WebhookDelivery[] = [];
  const ctx: EmulatorContext = {
    options,
    store: new Store(),
    scope,
    faults,
    webhooks: new WebhookSender(scope, faults, options.workspaceId, webhookDeliveries),
    downloads: new UrlSigner(() => baseUrl),
    uploads: new UrlSigner(() => baseUrl, UPLOAD_PREFIX),
    jobsStarted: [],
    reportError: (err) => console.error(`[roboflow-emulator] ${err instanceof Error ? err.stack ?? err.message : String(err)}`),
  };

  const { url, close } = await listen(createEmulatorServer(ctx, requests), options, scope);
  baseUrl = url;

  return {
    url,
    requests,
    webhookDeliveries,
    setFaults: (f) => faults.set(f),
    jobsStarted: () => [...ctx.jobsStarted],
    close,
  };
}

function resolveOptions(opts: EmulatorOptions): ResolvedOptions {
  if (!opts.apiKey) throw new Error('startRoboflowEmulator: apiKey is required');
  if (!opts.workspace) throw new Error('startRoboflowEmulator: workspace is required');
  const pageSize = opts.pageSize ?? 3;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error('startRoboflowEmulator: pageSize must be a positive integer');
  return {
    apiKey: opts.apiKey,
    workspace: opts.workspace,
    workspaceId: opts.workspaceId ?? defaultWorkspaceId(opts.workspace),
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    pageSize,
    trustedHosts: opts.trustedHosts ?? ['127.0.0.1', 'localhost'],
    ingestDelayMs: opts.ingestDelayMs ?? 50,
    jobStageDelayMs: opts.jobStageDelayMs ?? 100,
    maxImageBytes: opts.maxImageBytes ?? 20_971_520,
    maxImagesPerArchive: opts.maxImagesPerArchive ?? 500,
    maxArchiveBytes: opts.maxArchiveBytes ?? 512 * 1024 * 1024,
  };
}

/** Stable stand-in for Roboflow's internal workspace id. */
function defaultWorkspaceId(workspace: string): string {
  return createHash('sha256').update(workspace).digest('hex').slice(0, 20);
}
