import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { mapLimit } from '../../concurrency';
import { RemoteError } from '../../errors';
import type { MediaKind } from '../../media';
import { openDownload } from '../../pipeline/download';
import type { RunRecord } from '../../state/run-record';
import { keyAccepted } from '../access';
import { BatchPerChunkTarget } from '../batch-per-chunk';
import type {
  BatchTarget,
  ChunkReceipt,
  ChunkSubmission,
  OpenedOutput,
  OutputFile,
  OutputLocator,
  TargetEvent,
} from '../port';
import type { JobType } from './api-schemas';
import { MAX_FILE_BYTES, MAX_FILES_PER_BATCH, type LlamaCloudClient } from './client';
import { parseLlamaWebhook } from './webhook';

export interface LlamaCloudOptions {
  job: { type: JobType; configurationId: string };
  /** Where LlamaCloud posts batch webhooks, and the secret it signs them with (`LC-Signature`). */
  webhook?: { url: string; signingSecret: string };
  /** Uploads in flight per chunk. */
  uploadConcurrency?: number;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * LlamaCloud behind the target port. Files cannot be added by URL, so each chunk becomes an
 * ephemeral directory: every object streams from its signed URL into a multipart upload (bounded
 * concurrency, never buffered whole), then a batch runs the configured parse or extract job over
 * the directory. A COMPLETED batch can still hold failed files: each file's own job is checked.
 */
export class LlamaCloudTarget extends BatchPerChunkTarget implements BatchTarget {
  readonly name = 'llamacloud';
  protected readonly service = 'LlamaCloud';
  protected readonly terminalStatuses: ReadonlySet<string> = TERMINAL;
  protected readonly resultStatuses: ReadonlySet<string> = new Set(['COMPLETED']);
  readonly intake = 'uploads' as const;

  constructor(
    private readonly client: LlamaCloudClient,
    private readonly options: LlamaCloudOptions,
  ) {
    super();
  }

  protected async batchStatus(ref: string): Promise<string> {
    return (await this.client.batch(ref)).status;
  }

  maxObjectBytes(): number {
    return MAX_FILE_BYTES;
  }

  maxPerChunk(_media: MediaKind): number {
    return MAX_FILES_PER_BATCH;
  }

  checkAccess() {
    return keyAccepted('LlamaCloud', () => this.client.newestBatch());
  }

  async submitChunk(run: RunRecord, chunk: ChunkSubmission): Promise<ChunkReceipt> {
    if (!chunk.references) throw new Error('LlamaCloud needs the chunk\'s references to upload them');
    // A submission cut off before the run recorded it is repeated: find what the first attempt
    // created (the chunk's directory by name, files by unique id, the batch by directory).
    const name = directoryName(run, chunk.ingestId);
    const directory = (await this.client.findDirectory(name)) ?? (await this.client.createDirectory(name));
    const uploaded = new Set<string>();
    for await (const page of this.client.directoryFiles(directory.id)) for (const f of page) if (f.unique_id) uploaded.add(f.unique_id);
    const missing = chunk.references.filter((ref) => !uploaded.has(ref.name));
    await mapLimit(missing, this.options.uploadConcurrency ?? 4, (ref) =>
      this.client.upload(directory.id, {
        open: async () => (await openDownload(ref.url, ref.key)).body,
        displayName: ref.key.slice(ref.key.lastIndexOf('/') + 1),
        uniqueId: ref.name,
        metadata: { key: ref.key, runId: run.runId },
      }),
    );
    const existing = await this.client.findBatch(directory.id);
    const batch = existing ?? (await this.client.createBatch(directory.id, this.options.job, this.options.webhook));
    return { duplicated: existing !== undefined, ref: batch.id, ingested: true };
  }

  parseWebhook(headers: IncomingHttpHeaders, rawBody: string): TargetEvent | undefined {
    if (!this.options.webhook) throw new Error('no LlamaCloud webhook signing secret configured');
    return parseLlamaWebhook(headers, rawBody, this.options.webhook.signingSecret);
  }




  async *outputFiles(_run: RunRecord, batchId: string): AsyncIterable<OutputFile[]> {
    const batch = await this.client.batch(batchId, true);
    if (batch.status !== 'COMPLETED' || !batch.source_directory_id) return;
    const names = new Map<string, string>();
    for await (const page of this.client.directoryFiles(batch.source_directory_id)) {
      for (const f of page) names.set(f.id, f.unique_id ?? f.display_name ?? f.id);
    }
    const extension = this.options.job.type === 'parse_v2' ? 'md' : 'json';
    yield (batch.results ?? []).map((r) => {
      const name = names.get(r.source_directory_file_id) ?? r.source_directory_file_id;
      const file: OutputFile = {
        partName: 'results',
        fileName: `${name}.${extension}`,
        locator: { kind: 'api', ref: r.job_reference ? `${r.job_reference.type}:${r.job_reference.id}` : '' },
      };
      if (!r.job_reference || r.error_message) file.failed = { type: 'not-processed', reason: r.error_message ?? 'no job for this file' };
      return file;
    });
  }

  /** A file's own job: markdown for parse jobs, the extracted JSON for extract jobs. */
  async openOutput(locator: OutputLocator, label: string): Promise<OpenedOutput> {
    if (locator.kind !== 'api') throw new Error('LlamaCloud results are read through the API');
    const [type, jobId] = locator.ref.split(':') as [string, string];
    let text: string;
    if (type === 'parse_v2') {
      const job = await this.client.parseJob(jobId, ['markdown']);
      if (job.job.status !== 'COMPLETED') throw new RemoteError(`${label}: parse job ${job.job.status}: ${job.job.error_message ?? 'no detail'}`);
      text = job.markdown_full ?? (job.markdown?.pages ?? []).map((p) => (p as { markdown?: string }).markdown ?? '').join('\n\n');
    } else {
      const job = await this.client.extractJob(jobId);
      if (job.status !== 'COMPLETED') throw new RemoteError(`${label}: extract job ${job.status}: ${job.error_message ?? 'no detail'}`);
      text = JSON.stringify(job.extract_result ?? null, null, 2) + '\n';
    }
    const body = Buffer.from(text);
    return { body: Readable.from([body]), length: body.length };
  }
}

/**
 * A chunk's directory name: its ingest id, which repeats across deployments that share a LlamaCloud
 * project (scheduled run ids come from the source id and the tick), plus the run's nonce, which a
 * retried submission of the same run keeps and another deployment's run does not share (records
 * from before the nonce use their creation time).
 */
export function directoryName(run: Pick<RunRecord, 'nonce' | 'createdAt'>, ingestId: string): string {
  return `${ingestId}.${run.nonce ?? Date.parse(run.createdAt).toString(36)}`;
}
