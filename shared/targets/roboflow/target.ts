import type { IncomingHttpHeaders } from 'node:http';
import type { RunRecord } from '../../state/run-record';
import {
  type BatchTarget,
  type ChunkSubmission,
  type IngestProgress,
  type JobOutcome,
  type OpenedOutput,
  type OutputFile,
  type OutputLocator,
  type TargetEvent,
} from '../port';
import { MAX_IMAGE_BYTES, MAX_REFERENCES_PER_CHUNK, type MediaKind } from '../../media';
import { openDownload } from '../../pipeline/download';
import { roboflowAccess } from './access';
import type { RoboflowClient } from './client';
import { describeShardError } from './ingest-errors';
import { jobDefinitionFor, withoutUndefined } from './job-definition';
import { roboflowJobProgress } from './job-progress';
import { otherBatchError, startJobOnce } from './job-start';
import { httpReferencesProblem, httpReferencesRefusal } from './references-url';
import type { NotificationCategory } from './request-schemas';
import { EXPORT_STAGE, resultsStage, stageFailed } from './results-stage';
import { RoboflowUploads } from './uploads';
import { parseRoboflowWebhook } from './webhook';

const NOTIFICATION_CATEGORIES: NotificationCategory[] = ['ingest-status', 'files-status'];

export interface RoboflowTargetOptions {
  /** Submit plain-http references URLs (local emulators, private endpoints); Roboflow's official client refuses them, the API's answer is not documented. */
  allowHttpReferences?: boolean;
}

export class RoboflowTarget implements BatchTarget {
  readonly name = 'roboflow';
  readonly intake = 'references-file' as const;
  /** Plans without signed-URL ingest: tar archives of images, videos one by one. */
  readonly uploads: RoboflowUploads;

  /** Roboflow refuses images over 20 MiB; it publishes no limit for videos. */
  maxObjectBytes(media: MediaKind): number | undefined {
    return media === 'images' ? MAX_IMAGE_BYTES : undefined;
  }

  maxPerChunk(media: MediaKind): number {
    if (media === 'documents') throw new Error('Roboflow processes images and videos, not documents');
    return MAX_REFERENCES_PER_CHUNK[media];
  }

  /**
   * @param notificationsUrl where Roboflow should post webhooks (it holds the secret path token, so
   * it is configuration, never stored with a run); absent when runs are driven by polling.
   */
  constructor(
    private readonly client: RoboflowClient,
    private readonly notificationsUrl?: string,
    private readonly options: RoboflowTargetOptions = {},
  ) {
    this.uploads = new RoboflowUploads(client);
  }

  checkAccess() {
    return roboflowAccess(this.client);
  }

  /** Plain-http references are refused without the opt-in (see references-url.ts); the sample is signed only when that rule applies. */
  async checkSignedUrls(sample: () => Promise<string>) {
    if (this.options.allowHttpReferences) return undefined;
    return httpReferencesProblem(await sample(), false);
  }

  async submitChunk(run: RunRecord, chunk: ChunkSubmission) {
    const refusal = httpReferencesRefusal(chunk.referencesUrl, this.options.allowHttpReferences === true);
    if (refusal) throw refusal;
    const common = withoutUndefined({
      ingestId: chunk.ingestId,
      notificationsURL: this.notificationsUrl,
      notificationCategories: this.notificationsUrl ? NOTIFICATION_CATEGORIES : undefined,
    });
    const res =
      run.spec.media === 'images'
        ? await this.client.ingestImageReferences(run.batchId, { ...common, imageReferencesURL: chunk.referencesUrl })
        : await this.client.ingestVideoReferences(run.batchId, { ...common, videoReferencesURL: chunk.referencesUrl });
    return { duplicated: res.duplicated === true, shardIds: res.shardIds ?? undefined };
  }

  parseWebhook(headers: IncomingHttpHeaders, rawBody: string): TargetEvent {
    return parseRoboflowWebhook(headers, rawBody);
  }

  async ingestProgress(run: RunRecord): Promise<IngestProgress> {
    const count = await this.client.batchCount(run.batchId);
    const shards: IngestProgress['shards'] = [];
    for await (const page of this.client.shards(run.batchId)) {
      for (const s of page) {
        const type = s.statusType.toLowerCase();
        shards.push({ id: s.shardId, running: type === 'info', failed: type.includes('error'), detail: describeShardError(s.statusName, s.statusType, s.statusMetadata) });
      }
    }
    return { count, shards };
  }

  async *stagedNames(run: RunRecord): AsyncIterable<string[]> {
    for await (const page of this.client.batchFiles(run.batchId)) yield page.map((f) => f.fileName);
  }

  async startJob(run: RunRecord): Promise<void> {
    await startJobOnce(this.client, run, withoutUndefined(jobDefinitionFor(run, this.notificationsUrl)));
  }

  async jobOutcome(run: RunRecord): Promise<JobOutcome> {
    const { jobId } = run;
    const job = await this.client.jobMetadata(jobId);
    // Never copy the results of a job that reads another batch (a job id taken before this run).
    const mismatch = otherBatchError(job, run);
    if (mismatch) return { terminal: true, failed: true, detail: mismatch.message, outputBatches: [] };
    if (!job.isTerminal) return { terminal: false, failed: false, outputBatches: [] };
    if (job.error) return { terminal: true, failed: true, detail: describe(job.lastNotification), outputBatches: [] };
    const stages = await this.client.jobStages(jobId);
    const stage = resultsStage(stages);
    // The results stage, or an `export` stage that failed before producing any (as it always did).
    const failedStage = [stage, stages.find((s) => s.processingStageName === EXPORT_STAGE)].find((s) => s !== undefined && stageFailed(s));
    if (failedStage) {
      const detail = `${failedStage.processingStageName} stage failed: ${describe(failedStage.notification)}`;
      return { terminal: true, failed: true, detail, outputBatches: [] };
    }
    if (!stage) {
      const names = stages.map((s) => s.processingStageName).join(', ') || 'none';
      return { terminal: true, failed: true, detail: `job finished but no stage produced output batches (stages: ${names})`, outputBatches: [] };
    }
    return { terminal: true, failed: false, outputBatches: stage.outputBatches, resultsStage: stage.processingStageName };
  }

  jobProgress(run: RunRecord) {
    return roboflowJobProgress(this.client, run.jobId);
  }

  async *outputFiles(_run: RunRecord, batchId: string): AsyncIterable<OutputFile[]> {
    const batch = await this.client.batchMetadata(batchId);
    const parts = batch.batchType === 'multipart-batch' ? (await this.client.batchParts(batchId)).map((p) => p.partName) : [undefined];
    for (const partName of parts) {
      for await (const page of this.client.batchFiles(batchId, partName)) {
        yield page.map((f) => ({ partName: f.partName ?? partName, fileName: f.fileName, locator: { kind: 'url' as const, url: f.downloadURL } }));
      }
    }
  }

  /** Roboflow serves results as signed download URLs. */
  openOutput(locator: OutputLocator, label: string): Promise<OpenedOutput> {
    if (locator.kind !== 'url') return Promise.reject(new Error(`Roboflow results are download URLs, not ${locator.kind} references`));
    return openDownload(locator.url, label);
  }
}

function describe(notification: unknown): string {
  if (typeof notification === 'string') return notification;
  if (notification && typeof notification === 'object' && 'message' in notification) return String(notification.message);
  return notification === undefined || notification === null ? 'no detail given' : JSON.stringify(notification).slice(0, 300);
}
