import { FormData, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { JsonClient } from '../../http/json-client';
import type { RetryPolicy } from '../../http/retry-policy';
import * as api from './api-schemas';
import { BatchId, JobId } from './ids';
import type {
  ImageReferencesBody,
  JobDefinition,
  LogSeverity,
  RestartOverrides,
  RoboqlIngestBody,
  VideoReferencesBody,
} from './request-schemas';

export const DEFAULT_ROBOFLOW_API_URL = 'https://api.roboflow.com';
const TIMEOUT_MS = 60_000;
/** Reference ingests make Roboflow read the references file before answering. */
const INGEST_TIMEOUT_MS = 120_000;

export interface RoboflowClientOptions {
  apiKey: string;
  workspace: string;
  apiUrl?: string;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
}

type Query = Record<string, string | number | undefined>;

/**
 * Roboflow Data Staging + Batch Processing REST client. Every endpoint of the contract notes,
 * exact casing, `api_key` as a query parameter (kept out of every message), validated responses.
 */
export class RoboflowClient {
  private readonly http: JsonClient;
  private readonly ds: string;
  private readonly bp: string;
  /** The workspace slug every Data Staging and Batch Processing path names. */
  readonly workspace: string;

  constructor(options: RoboflowClientOptions) {
    this.workspace = options.workspace;
    this.http = new JsonClient({
      baseUrl: options.apiUrl ?? DEFAULT_ROBOFLOW_API_URL,
      secretQuery: { api_key: options.apiKey },
      retry: options.retry,
      dispatcher: options.dispatcher,
      onRetry: options.onRetry,
      serviceName: 'Roboflow',
    });
    const ws = encodeURIComponent(options.workspace);
    this.ds = `/data-staging/v1/external/${ws}`;
    this.bp = `/batch-processing/v1/external/${ws}`;
  }

  private get<T extends z.ZodType>(path: string, schema: T, query?: Query) {
    return this.http.send({ method: 'GET', path, query, schema, timeoutMs: TIMEOUT_MS });
  }

  private post<T extends z.ZodType>(path: string, schema: T, body?: unknown, query?: Query, timeoutMs = TIMEOUT_MS) {
    return this.http.send({ method: 'POST', path, query, body, schema, timeoutMs });
  }

  /** Follows nextPageToken until the service stops returning one. */
  private async *pages<T extends z.ZodType<{ nextPageToken?: string | null }>>(
    path: string,
    schema: T,
    query: Query = {},
  ): AsyncGenerator<z.infer<T>> {
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await this.get(path, schema, { ...query, nextPageToken: token });
      yield page;
      // An empty token means the same as none: the last page.
      token = page.nextPageToken || undefined;
      if (token !== undefined) {
        if (seen.has(token)) throw new Error(`Roboflow GET ${path}: pagination token repeated`);
        seen.add(token);
      }
    } while (token !== undefined);
  }

  private batch(batchId: string) {
    return `${this.ds}/batches/${BatchId.parse(batchId)}`;
  }

  private job(jobId: string) {
    return `${this.bp}/jobs/${JobId.parse(jobId)}`;
  }

  // ---- workspace -------------------------------------------------------------------------------

  /** The workspace slug that owns the API key (`GET /`); undefined when the answer names none. */
  async workspaceOfKey(): Promise<string | undefined> {
    return (await this.get('/', api.WorkspaceResponse)).workspace;
  }

  // ---- data staging: ingest ----------------------------------------------------------------------

  async ingestImageReferences(batchId: string, body: ImageReferencesBody, displayName = batchId) {
    return this.post(`${this.batch(batchId)}/bulk-upload/image-references`, api.ReferencesIngestResponse, body, { displayName }, INGEST_TIMEOUT_MS);
  }

  async ingestVideoReferences(batchId: string, body: VideoReferencesBody, displayName = batchId) {
    return this.post(`${this.batch(batchId)}/bulk-upload/video-references`, api.ReferencesIngestResponse, body, { displayName }, INGEST_TIMEOUT_MS);
  }

  /** Single-image upload (simple batches only); the multipart field is named after the file. */
  async uploadImage(batchId: string, fileName: string, bytes: Uint8Array, displayName = batchId) {
    const form = new FormData();
    form.append(fileName, new Blob([bytes]), fileName);
    return this.postForm(`${this.batch(batchId)}/upload/image`, form, { displayName, fileName });
  }

  async requestVideoUpload(batchId: string, fileName: string, displayName = batchId) {
    return this.post(`${this.batch(batchId)}/upload/video`, api.SignedUploadResponse, undefined, { fileName, displayName });
  }

  async requestImagesArchiveUpload(batchId: string, displayName = batchId) {
    return this.post(`${this.batch(batchId)}/bulk-upload/image-files`, api.SignedUploadResponse, undefined, { displayName });
  }

  async roboqlIngest(batchId: string, body: RoboqlIngestBody) {
    return this.post(`${this.batch(batchId)}/roboql-ingest`, api.AnyJson, body, undefined, INGEST_TIMEOUT_MS);
  }

  // ---- data staging: inspect -----------------------------------------------------------------------

  async batchCount(batchId: string, partName?: string): Promise<number> {
    return (await this.get(`${this.batch(batchId)}/count`, api.CountResponse, { partName })).count;
  }

  async *shards(batchId: string): AsyncGenerator<api.ShardDetails[]> {
    for await (const page of this.pages(`${this.batch(batchId)}/shards`, api.ShardsPage)) yield page.shards;
  }

  async batchMetadata(batchId: string): Promise<api.BatchMetadata> {
    return (await this.get(this.batch(batchId), api.BatchResponse)).batch;
  }

  async *batches(): AsyncGenerator<api.BatchMetadata[]> {
    for await (const page of this.pages(`${this.ds}/batches`, api.BatchesPage)) yield page.batches;
  }

  async batchParts(batchId: string) {
    return (await this.get(`${this.batch(batchId)}/parts`, api.BatchPartsResponse)).batchParts;
  }

  async *batchFiles(batchId: string, partName?: string): AsyncGenerator<api.FileMetadata[]> {
    for await (const page of this.pages(`${this.batch(batchId)}/list`, api.FilesPage, { partName })) {
      yield page.filesMetadata;
    }
  }

  // ---- batch processing ----------------------------------------------------------------------------

  /** Same id and definition is idempotent on Roboflow's side; a different definition gets 409. */
  async startJob(jobId: string, definition: JobDefinition, name?: string): Promise<void> {
    await this.post(this.job(jobId), api.AnyJson, definition, { name });
  }

  async jobMetadata(jobId: string): Promise<api.JobMetadata> {
    return (await this.get(this.job(jobId), api.JobResponse)).job;
  }

  async jobStages(jobId: string): Promise<api.JobStage[]> {
    return (await this.get(`${this.job(jobId)}/stages`, api.StagesResponse)).stages;
  }

  async *stageTasks(jobId: string, stageId: string) {
    const path = `${this.job(jobId)}/stages/${encodeURIComponent(stageId)}/tasks`;
    for await (const page of this.pages(path, api.TasksPage)) yield page.tasks;
  }

  async *jobLogs(jobId: string, severity?: LogSeverity) {
    for await (const page of this.pages(`${this.job(jobId)}/logs`, api.LogsPage, { severity })) yield page.logs;
  }

  async *jobs(): AsyncGenerator<api.JobMetadata[]> {
    for await (const page of this.pages(`${this.bp}/jobs`, api.JobsPage)) yield page.jobs;
  }

  async abortJob(jobId: string) {
    return this.post(`${this.job(jobId)}/abort`, api.AnyJson);
  }

  /** The body is sent only when there is at least one override, as Roboflow's client does. */
  async restartJob(jobId: string, overrides?: RestartOverrides) {
    const hasOverride = overrides !== undefined && Object.entries(overrides).some(([k, v]) => k !== 'type' && v !== undefined);
    return this.post(`${this.job(jobId)}/restart`, api.AnyJson, hasOverride ? overrides : undefined);
  }

  private postForm(path: string, form: FormData, query: Query) {
    return this.http.send({ method: 'POST', path, query, form, schema: api.AnyJson, timeoutMs: TIMEOUT_MS });
  }
}
