import type { Dispatcher } from 'undici';
import { JsonClient } from '../../http/json-client';
import type { RetryPolicy } from '../../http/retry-policy';
import { BatchRun, FullRun, RunList, type BatchInput, type ProcessorKind, type RunSummary } from './api-schemas';

export const DEFAULT_EXTEND_API_URL = 'https://api.extend.ai';
export const EXTEND_API_VERSION = '2026-02-09';
/** Inputs per batch request (Extend accepts 1 to 1,000). */
export const MAX_INPUTS_PER_BATCH = 1000;
const TIMEOUT_MS = 120_000;

const PROCESSOR_FIELD: Record<ProcessorKind, 'extractor' | 'classifier' | 'splitter'> = {
  extract: 'extractor',
  classify: 'classifier',
  split: 'splitter',
};

export interface ExtendClientOptions {
  apiKey: string;
  apiUrl?: string;
  /** Needed with organization-scoped keys. */
  workspaceId?: string;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** Extend batch runs: submit inputs for a processor, watch the batch, page through its runs. */
export class ExtendClient {
  private readonly http: JsonClient;

  constructor(options: ExtendClientOptions) {
    this.http = new JsonClient({
      baseUrl: options.apiUrl ?? DEFAULT_EXTEND_API_URL,
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        'x-extend-api-version': EXTEND_API_VERSION,
        ...(options.workspaceId ? { 'x-extend-workspace-id': options.workspaceId } : {}),
      },
      retry: options.retry,
      dispatcher: options.dispatcher,
      onRetry: options.onRetry,
      serviceName: 'Extend',
    });
  }

  async createBatch(kind: ProcessorKind, processor: { id: string; version?: string }, inputs: BatchInput[], priority?: number): Promise<BatchRun> {
    if (inputs.length < 1 || inputs.length > MAX_INPUTS_PER_BATCH) throw new Error(`Extend batches take 1 to ${MAX_INPUTS_PER_BATCH} inputs, got ${inputs.length}`);
    const body = { [PROCESSOR_FIELD[kind]]: processor, inputs, ...(priority === undefined ? {} : { priority }) };
    return this.http.send({ method: 'POST', path: `/${kind}_runs/batch`, body, schema: BatchRun, timeoutMs: TIMEOUT_MS });
  }

  batch(batchId: string): Promise<BatchRun> {
    return this.http.send({ method: 'GET', path: `/batch_runs/${encodeURIComponent(batchId)}`, schema: BatchRun, timeoutMs: TIMEOUT_MS });
  }

  /** The runs of one batch, page by page (summaries, without output). */
  async *batchRuns(kind: ProcessorKind, batchId: string, status?: string): AsyncGenerator<RunSummary[]> {
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await this.http.send({
        method: 'GET',
        path: `/${kind}_runs`,
        query: { batchId, status, nextPageToken: token },
        schema: RunList,
        timeoutMs: TIMEOUT_MS,
      });
      yield page.data;
      token = page.nextPageToken || undefined;
      if (token !== undefined && !seen.add(token)) throw new Error(`Extend GET /${kind}_runs: pagination token repeated`);
    } while (token !== undefined);
  }

  /** The newest run of one kind, if any: the cheapest authenticated read (checks the key and workspace). */
  async newestRun(kind: ProcessorKind): Promise<RunSummary | undefined> {
    const page = await this.http.send({ method: 'GET', path: `/${kind}_runs`, query: { maxPageSize: 1 }, schema: RunList, timeoutMs: TIMEOUT_MS });
    return page.data[0];
  }

  run(kind: ProcessorKind, runId: string): Promise<FullRun> {
    return this.http.send({ method: 'GET', path: `/${kind}_runs/${encodeURIComponent(runId)}`, schema: FullRun, timeoutMs: TIMEOUT_MS });
  }
}
