import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { MediaKind } from '../../media';
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
import type { ProcessorKind } from './api-schemas';
import { MAX_INPUTS_PER_BATCH, type ExtendClient } from './client';
import { parseExtendWebhook } from './webhook';

export interface ExtendProcessor {
  kind: ProcessorKind;
  id: string;
  version?: string;
}

const TERMINAL = new Set(['PROCESSED', 'FAILED', 'CANCELLED']);
/** How a refused or expired signed URL shows in a run's failure message. */
const URL_REFUSED = /\b(403|expired|AccessDenied)\b/i;

/**
 * Extend batch runs behind the target port: each chunk of signed references becomes one batch
 * (at most 1,000 inputs) whose runs start at once, so there is no ingest phase and no job to start.
 * Each input carries its object key and reference name in its metadata; results are read per run
 * through the API and written back as one JSON file per source object.
 */
export class ExtendTarget extends BatchPerChunkTarget implements BatchTarget {
  readonly name = 'extend';
  protected readonly service = 'Extend';
  protected readonly terminalStatuses: ReadonlySet<string> = TERMINAL;
  protected readonly resultStatuses: ReadonlySet<string> = new Set(['PROCESSED']);
  readonly intake = 'inline-references' as const;
  readonly combinedResults = 'results.jsonl';

  constructor(
    private readonly client: ExtendClient,
    private readonly processor: ExtendProcessor,
    /** The signing secret of the webhook endpoint registered with Extend (`wss_…`). */
    private readonly webhookSecret?: string,
  ) {
    super();
  }

  protected async batchStatus(ref: string): Promise<string> {
    return (await this.client.batch(ref)).status;
  }

  /** Extend publishes no file size limit. */
  maxObjectBytes(): number | undefined {
    return undefined;
  }

  maxPerChunk(_media: MediaKind): number {
    return MAX_INPUTS_PER_BATCH;
  }

  checkAccess() {
    return keyAccepted('Extend', () => this.client.newestRun(this.processor.kind));
  }

  async submitChunk(run: RunRecord, chunk: ChunkSubmission): Promise<ChunkReceipt> {
    if (!chunk.references) throw new Error('Extend needs the chunk\'s references inline');
    const inputs = chunk.references.map((r) => ({
      file: { url: r.url, name: r.key.slice(r.key.lastIndexOf('/') + 1) },
      metadata: { key: r.key, name: r.name, runId: run.runId, ingestId: chunk.ingestId },
    }));
    const batch = await this.client.createBatch(this.processor.kind, { id: this.processor.id, version: this.processor.version }, inputs);
    return { duplicated: false, ref: batch.id, ingested: true };
  }

  parseWebhook(headers: IncomingHttpHeaders, rawBody: string): TargetEvent | undefined {
    if (!this.webhookSecret) throw new Error('no Extend webhook signing secret configured');
    return parseExtendWebhook(headers, rawBody, this.webhookSecret);
  }




  async *outputFiles(_run: RunRecord, batchId: string): AsyncIterable<OutputFile[]> {
    for await (const page of this.client.batchRuns(this.processor.kind, batchId)) {
      yield page.map((r) => {
        const name = typeof r.metadata?.name === 'string' ? r.metadata.name : r.id;
        const file: OutputFile = { partName: 'results', fileName: `${name}.json`, locator: { kind: 'api', ref: r.id } };
        if (r.status !== 'PROCESSED') {
          file.failed = { type: r.failureReason ?? r.status.toLowerCase(), reason: r.failureMessage ?? `run ended ${r.status}` };
          const key = r.metadata?.key;
          // Extend could not fetch the file because its signed URL was refused (e.g. expired): sign again.
          if (r.failureReason === 'FAILED_TO_PROCESS_FILE' && URL_REFUSED.test(r.failureMessage ?? '') && typeof key === 'string') {
            file.failed.retryInput = { key, name };
          }
        }
        return file;
      });
    }
  }

  /** One run's result: its key, status and output, as JSON. */
  async openOutput(locator: OutputLocator): Promise<OpenedOutput> {
    if (locator.kind !== 'api') throw new Error('Extend results are read through the API');
    const run = await this.client.run(this.processor.kind, locator.ref);
    const body = Buffer.from(
      JSON.stringify({ key: run.metadata?.key, name: run.metadata?.name, runId: run.id, status: run.status, output: run.output }, null, 2) + '\n',
    );
    return { body: Readable.from([body]), length: body.length };
  }
}
