/**
 * Local emulator of LlamaCloud's directories, v2 batches and parse/extract job endpoints, for demos and
 * end-to-end tests. See README.md in this folder for the emulated contract and its simplifications.
 */
import { createHash } from 'node:crypto';
import { listen } from '../emulator-kit/listen';
import { TaskScope } from '../emulator-kit/task-scope';
import type { EmulatorContext } from './context';
import { FaultInjector } from './faults';
import { ResultSigner } from './presign';
import { createEmulatorServer } from './server';
import { Store } from './store';
import type { LlamaEmulatorOptions, RecordedRequest, ResolvedOptions, RunningLlamaEmulator, WebhookDelivery } from './types';
import { UploadStats } from './uploads';
import { WebhookSender } from './webhooks';

export type {
  LlamaEmulatorFaults,
  LlamaEmulatorOptions,
  ProductType,
  RecordedRequest,
  RunningLlamaEmulator,
  WebhookDelivery,
} from './types';
export { MAX_BATCH_FILES, JOB_ID_PREFIX } from './batches';
export { WEBHOOK_USER_AGENT } from './webhooks';

export const DEFAULT_CONFIGURATIONS = [
  { id: 'cfg-PARSE_AGENTIC', product_type: 'parse_v2' },
  { id: 'cfg-extract-emulated', product_type: 'extract_v2' },
] as const;

export async function startLlamaCloudEmulator(opts: LlamaEmulatorOptions): Promise<RunningLlamaEmulator> {
  const options = resolveOptions(opts);
  let baseUrl = '';
  const scope = new TaskScope();
  const faults = new FaultInjector(opts.faults);
  const requests: RecordedRequest[] = [];
  const webhookDeliveries: WebhookDelivery[] = [];
  const reportError = (err: unknown) =>
    console.error(`[llamacloud-emulator] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  const uploads = new UploadStats();
  const ctx: EmulatorContext = {
    options,
    store: new Store(),
    scope,
    faults,
    webhooks: new WebhookSender(scope, faults, webhookDeliveries, reportError),
    signer: new ResultSigner(() => baseUrl),
    uploads,
    reportError,
  };

  const { url, close } = await listen(createEmulatorServer(ctx, requests), options, scope);
  baseUrl = url;

  return {
    url,
    requests,
    webhookDeliveries,
    uploadedBytes: () => uploads.totalBytes,
    maxConcurrentUploads: () => uploads.maxConcurrent,
    setFaults: (f) => faults.set(f),
    close,
  };
}

function resolveOptions(opts: LlamaEmulatorOptions): ResolvedOptions {
  if (!opts.apiKey) throw new Error('startLlamaCloudEmulator: apiKey is required');
  const positiveInt = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`startLlamaCloudEmulator: ${name} must be a positive integer`);
    return value;
  };
  const jobDelayMs = opts.jobDelayMs ?? 30;
  if (!Number.isFinite(jobDelayMs) || jobDelayMs < 0) throw new Error('startLlamaCloudEmulator: jobDelayMs must be >= 0');
  const configurations = new Map<string, 'parse_v2' | 'extract_v2'>();
  for (const c of opts.configurations ?? DEFAULT_CONFIGURATIONS) configurations.set(c.id, c.product_type);
  return {
    apiKey: opts.apiKey,
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    pageSize: positiveInt('pageSize', opts.pageSize ?? 3),
    maxUploadBytes: positiveInt('maxUploadBytes', opts.maxUploadBytes ?? 512 * 1024 * 1024),
    jobDelayMs,
    configurations,
    projectId: projectIdFor(opts.apiKey),
  };
}

/** Stable stand-in for the project a key is scoped to (`prj-` + UUID-shaped hash; never reveals the key). */
function projectIdFor(apiKey: string): string {
  const hex = createHash('sha256').update(`project:${apiKey}`).digest('hex');
  return `prj-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
