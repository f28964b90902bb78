import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { JsonClient } from '../../http/json-client';
import type { RetryPolicy } from '../../http/retry-policy';
import type { z } from 'zod';
import { Batch, Directory, DirectoryFile, ExtractJob, pageOf, ParseJob, type JobType } from './api-schemas';
import { multipartStream } from './multipart';

export const DEFAULT_LLAMACLOUD_API_URL = 'https://api.cloud.llamaindex.ai';
/** Source files per batch (LlamaCloud's limit). */
export const MAX_FILES_PER_BATCH = 1000;
/** Largest file LlamaCloud accepts. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
const TIMEOUT_MS = 120_000;
const UPLOAD_TIMEOUT_MS = 600_000;

export interface LlamaCloudClientOptions {
  apiKey: string;
  apiUrl?: string;
  projectId?: string;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
}

export interface Upload {
  /** Opens the file's bytes; called again for each attempt. */
  open: () => Promise<Readable>;
  displayName: string;
  uniqueId: string;
  metadata?: Record<string, string>;
}

export interface BatchWebhook {
  url: string;
  signingSecret: string;
  events?: string[];
}

/** LlamaCloud directories, v2 batches and the parse / extract jobs they create. */
export class LlamaCloudClient {
  private readonly http: JsonClient;
  private readonly query: Record<string, string | undefined>;

  constructor(options: LlamaCloudClientOptions) {
    this.http = new JsonClient({
      baseUrl: options.apiUrl ?? DEFAULT_LLAMACLOUD_API_URL,
      headers: { authorization: `Bearer ${options.apiKey}` },
      retry: options.retry,
      dispatcher: options.dispatcher,
      onRetry: options.onRetry,
      serviceName: 'LlamaCloud',
    });
    this.query = { project_id: options.projectId };
  }

  createDirectory(name: string) {
    return this.http.send({
      method: 'POST',
      path: '/api/v1/beta/directories',
      query: this.query,
      body: { name, type: 'ephemeral' },
      schema: Directory,
      timeoutMs: TIMEOUT_MS,
    });
  }

  /** Streams one file into a directory; `unique_id` makes a retried upload land on the same entry. */
  upload(directoryId: string, file: Upload): Promise<DirectoryFile> {
    return this.http.send({
      method: 'POST',
      path: `/api/v1/beta/directories/${encodeURIComponent(directoryId)}/files/upload`,
      query: this.query,
      stream: async () =>
        multipartStream(
          {
            display_name: file.displayName,
            external_file_id: file.uniqueId,
            unique_id: file.uniqueId,
            metadata: file.metadata ? JSON.stringify(file.metadata) : undefined,
          },
          { field: 'upload_file', fileName: file.displayName, body: await file.open() },
        ),
      schema: DirectoryFile,
      timeoutMs: UPLOAD_TIMEOUT_MS,
    });
  }

  /** The files of a directory, page by page. */
  directoryFiles(directoryId: string): AsyncGenerator<DirectoryFile[]> {
    return this.pages(`/api/v1/beta/directories/${encodeURIComponent(directoryId)}/files`, {}, DirectoryFile);
  }

  /** The ephemeral directory of that name, if one exists (names are ours and unique per chunk). */
  async findDirectory(name: string): Promise<z.infer<typeof Directory> | undefined> {
    for await (const page of this.pages('/api/v1/beta/directories', { name, type: 'ephemeral' }, Directory)) {
      const found = page.find((d) => d.name === name);
      if (found) return found;
    }
    return undefined;
  }

  /** A batch already created over the directory, if any. */
  async findBatch(directoryId: string): Promise<Batch | undefined> {
    for await (const page of this.pages('/api/v2/batches', { source_directory_id: directoryId }, Batch)) {
      const found = page.find((b) => b.source_directory_id === directoryId);
      if (found) return found;
    }
    return undefined;
  }

  private async *pages<T extends z.ZodTypeAny>(path: string, filters: Record<string, string>, item: T): AsyncGenerator<Array<z.infer<T>>> {
    const schema = pageOf(item);
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.http.send({ method: 'GET', path, query: { ...this.query, ...filters, page_token: token }, schema, timeoutMs: TIMEOUT_MS });
      yield page.items;
      token = page.next_page_token || undefined;
      if (token !== undefined && !seen.add(token)) throw new Error(`LlamaCloud ${path}: pagination token repeated`);
    } while (token !== undefined);
  }

  createBatch(directoryId: string, job: { type: JobType; configurationId: string }, webhook?: BatchWebhook): Promise<Batch> {
    return this.http.send({
      method: 'POST',
      path: '/api/v2/batches',
      query: this.query,
      body: {
        source_directory_id: directoryId,
        config: { job: { type: job.type, configuration_id: job.configurationId } },
        ...(webhook
          ? {
              webhook_configurations: [
                {
                  webhook_url: webhook.url,
                  webhook_events: webhook.events ?? ['batch.success', 'batch.error', 'batch.cancelled'],
                  webhook_output_format: 'json',
                  webhook_signing_secret: webhook.signingSecret,
                },
              ],
            }
          : {}),
      },
      schema: Batch,
      timeoutMs: TIMEOUT_MS,
    });
  }

  /** The newest batch of the project, if any: the cheapest authenticated read (checks the key and project). */
  async newestBatch(): Promise<Batch | undefined> {
    const page = await this.http.send({ method: 'GET', path: '/api/v2/batches', query: { ...this.query, page_size: 1 }, schema: pageOf(Batch), timeoutMs: TIMEOUT_MS });
    return page.items[0];
  }

  batch(batchId: string, withResults = false): Promise<Batch> {
    return this.http.send({
      method: 'GET',
      path: `/api/v2/batches/${encodeURIComponent(batchId)}`,
      query: { ...this.query, expand: withResults ? 'results' : undefined },
      schema: Batch,
      timeoutMs: TIMEOUT_MS,
    });
  }

  parseJob(jobId: string, expand: string[] = ['markdown']): Promise<ParseJob> {
    return this.http.send({
      method: 'GET',
      path: `/api/v2/parse/${encodeURIComponent(jobId)}`,
      query: { ...this.query, expand: expand.join(',') || undefined },
      schema: ParseJob,
      timeoutMs: TIMEOUT_MS,
    });
  }

  extractJob(jobId: string): Promise<ExtractJob> {
    return this.http.send({ method: 'GET', path: `/api/v2/extract/${encodeURIComponent(jobId)}`, query: this.query, schema: ExtractJob, timeoutMs: TIMEOUT_MS });
  }
}
