/**
 * Local emulator of Extend's batch API (extract / classify / split batches, batch status, run lists,
 * single runs, signed webhooks), for demos and end-to-end tests.
 * See README.md in this folder for the emulated contract and the choices made where Extend publishes nothing.
 */
import { listen } from '../emulator-kit/listen';
import { TaskScope } from '../emulator-kit/task-scope';
import type { EmulatorContext } from './context';
import { FaultInjector } from './faults';
import { randomToken } from './ids';
import { DEFAULT_PROCESSORS } from './kinds';
import { Limiter } from './limiter';
import { createEmulatorServer } from './server';
import { Store } from './store';
import type { ExtendEmulatorOptions, ExtendRecordedRequest, ExtendWebhookDelivery, ResolvedOptions, RunningExtendEmulator } from './types';
import { WebhookSender } from './webhooks';

export type {
  ExtendEmulatorFaults,
  ExtendEmulatorOptions,
  ExtendProcessor,
  ExtendRecordedRequest,
  ExtendWebhookDelivery,
  ProcessorType,
  RunningExtendEmulator,
} from './types';
export { API_VERSION } from './server';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature';

/** Runs processed at once, emulator-wide; the rest wait PENDING. */
const RUN_CONCURRENCY = 4;
/** Webhook POSTs in flight at once. */
const WEBHOOK_CONCURRENCY = 4;

export async function startExtendEmulator(opts: ExtendEmulatorOptions): Promise<RunningExtendEmulator> {
  const options = resolveOptions(opts);
  let baseUrl = '';
  const scope = new TaskScope();
  const faults = new FaultInjector(opts.faults);
  const requests: ExtendRecordedRequest[] = [];
  const webhookDeliveries: ExtendWebhookDelivery[] = [];
  const reportError = (err: unknown) =>
    console.error(`[extend-emulator] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  const ctx: EmulatorContext = {
    options,
    store: new Store(),
    scope,
    faults,
    webhooks: new WebhookSender(
      scope,
      faults,
      new Limiter(WEBHOOK_CONCURRENCY, scope.signal),
      { url: options.webhookUrl, signingSecret: options.signingSecret },
      webhookDeliveries,
      reportError,
    ),
    runSlots: new Limiter(RUN_CONCURRENCY, scope.signal),
    views: { baseUrl: () => baseUrl, startedAt: new Date().toISOString() },
    fetched: { count: 0 },
    reportError,
  };

  const { url, close } = await listen(createEmulatorServer(ctx, requests), options, scope);
  baseUrl = url;

  return {
    url,
    signingSecret: options.signingSecret,
    requests,
    webhookDeliveries,
    setFaults: (f) => faults.set(f),
    runsFetched: () => ctx.fetched.count,
    close,
  };
}

function resolveOptions(opts: ExtendEmulatorOptions): ResolvedOptions {
  const fail = (message: string): never => {
    throw new Error(`startExtendEmulator: ${message}`);
  };
  if (!opts.apiKey) fail('apiKey is required');
  const positiveInt = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive integer`);
    return value;
  };
  const runDelayMs = opts.runDelayMs ?? 30;
  if (!Number.isFinite(runDelayMs) || runDelayMs < 0) fail('runDelayMs must be a non-negative number');
  if (opts.webhookUrl !== undefined) {
    let protocol = '';
    try {
      protocol = new URL(opts.webhookUrl).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'http:' && protocol !== 'https:') fail('webhookUrl must be an absolute http(s) URL');
  }
  const processors = (opts.processors ?? DEFAULT_PROCESSORS).map((p) => ({ id: p.id, type: p.type, versions: [...(p.versions ?? ['1.0'])] }));
  const ids = new Set<string>();
  for (const p of processors) {
    if (!p.id) fail('every processor needs an id');
    if (!['extract', 'classify', 'split'].includes(p.type)) fail(`processor ${p.id} has an unknown type ${String(p.type)}`);
    if (ids.has(p.id)) fail(`processor id ${p.id} is used twice`);
    ids.add(p.id);
    if (p.versions.some((v) => v === 'latest' || v === 'draft' || !v)) fail(`processor ${p.id}: versions must be published version names`);
  }
  return {
    apiKey: opts.apiKey,
    signingSecret: opts.signingSecret ?? `wss_${randomToken(32)}`,
    webhookUrl: opts.webhookUrl,
    processors,
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    pageSize: positiveInt('pageSize', opts.pageSize ?? 3),
    runDelayMs,
    maxInputsPerBatch: positiveInt('maxInputsPerBatch', opts.maxInputsPerBatch ?? 1000),
  };
}
