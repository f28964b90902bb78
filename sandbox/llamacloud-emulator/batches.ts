/**
 * Batch lifecycle: validation on create, then in the background PENDING → RUNNING → one job per source
 * file (each taking `jobDelayMs`) → COMPLETED once every file is mapped and every job is terminal.
 * Cancel stops starting new jobs; jobs already running finish and keep their results.
 */
import type { EmulatorContext } from './context';
import { mapWithLimit } from '../emulator-kit/concurrency';
import { badRequest, conflict } from './http-io';
import { BatchCreate, parseOrUnprocessable } from './schemas';
import { newId, nowIso, type Batch, type BatchStatus, type Job, type WebhookConfig } from './store';
import { newEvent, type WebhookChannel } from './webhooks';

export const MAX_BATCH_FILES = 1000;
/** Jobs of one batch processed at the same time. */
const JOB_CONCURRENCY = 8;
const TERMINAL: readonly BatchStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];
export const JOB_ID_PREFIX = { parse_v2: 'pjb', extract_v2: 'exj' } as const;

export function createBatch(ctx: EmulatorContext, body: unknown): Batch {
  const request = parseOrUnprocessable(BatchCreate, body);
  const directory = ctx.store.getDirectory(request.source_directory_id);
  const { type, configuration_id: configurationId } = request.config.job;
  const productType = ctx.options.configurations.get(configurationId);
  if (!productType) throw badRequest(`Configuration ${configurationId} not found`);
  if (productType !== type) {
    throw badRequest(`Configuration ${configurationId} is a ${productType} configuration; config.job.type is ${type}`);
  }
  if (request.webhook_configuration_ids?.length) {
    throw badRequest(`Webhook configuration ${request.webhook_configuration_ids[0]} not found (saved webhook configurations are not emulated)`);
  }
  const fileCount = directory.files.length;
  if (fileCount === 0) throw badRequest(`Directory ${directory.id} has no files to process`);
  if (fileCount > MAX_BATCH_FILES) {
    throw badRequest(`Directory ${directory.id} holds ${fileCount} files; a batch may cover at most ${MAX_BATCH_FILES}`);
  }

  const now = nowIso();
  const batch: Batch = {
    id: newId('bat'),
    sourceDirectoryId: directory.id,
    jobType: type,
    configurationId,
    status: 'PENDING',
    createdAt: now,
    updatedAt: now,
    results: null,
    files: [...directory.files],
    cancelRequested: false,
    orchestrationFails: ctx.faults.current.failBatches === true,
  };
  ctx.store.batches.set(batch.id, batch);

  const channels = (request.webhook_configurations ?? []).map((c) =>
    ctx.webhooks.channel({
      webhookUrl: c.webhook_url,
      events: c.webhook_events ?? null,
      headers: c.webhook_headers ?? {},
      outputFormat: c.webhook_output_format ?? 'string',
      signingSecret: c.webhook_signing_secret ?? null,
    } satisfies WebhookConfig),
  );
  const run = new BatchRun(ctx, batch, channels);
  run.announce('batch.pending');
  ctx.scope.run(() => run.execute(), (err) => ctx.reportError(err));
  return batch;
}

export function cancelBatch(batch: Batch): Batch {
  if (TERMINAL.includes(batch.status)) throw conflict(`Batch ${batch.id} is ${batch.status} and cannot be cancelled`);
  batch.cancelRequested = true;
  batch.updatedAt = nowIso();
  return batch;
}

class BatchRun {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly batch: Batch,
    private readonly channels: WebhookChannel[],
  ) {}

  announce(eventType: string): void {
    const event = newEvent(eventType, { id: this.batch.id, status: this.batch.status });
    for (const channel of this.channels) channel.send(event);
  }

  async execute(): Promise<void> {
    const { ctx, batch } = this;
    await ctx.scope.sleep(ctx.options.jobDelayMs);
    if (batch.cancelRequested) return this.finish('CANCELLED', 'batch.cancelled');

    this.setStatus('RUNNING');
    this.announce('batch.running');
    if (batch.orchestrationFails) {
      await ctx.scope.sleep(ctx.options.jobDelayMs);
      return this.finish('FAILED', 'batch.error');
    }
    const results: NonNullable<Batch['results']> = [];
    batch.results = results;
    await mapWithLimit(batch.files, JOB_CONCURRENCY, async (file) => {
      if (batch.cancelRequested) return;
      const now = nowIso();
      const job: Job = {
        id: newId(JOB_ID_PREFIX[batch.jobType]),
        kind: batch.jobType,
        batchId: batch.id,
        configurationId: batch.configurationId,
        file,
        status: 'PENDING',
        errorMessage: null,
        createdAt: now,
        updatedAt: now,
      };
      ctx.store.jobs.set(job.id, job);
      results.push({ source_directory_file_id: file.id, job_reference: { type: job.kind, id: job.id }, error_message: null });
      setJobStatus(job, 'RUNNING');
      await ctx.scope.sleep(ctx.options.jobDelayMs);
      if (ctx.faults.failsFile(file.displayName)) {
        job.errorMessage = ctx.faults.current.failureMessage?.(file.displayName) ?? `Emulated failure: could not process ${file.displayName}`;
        setJobStatus(job, 'FAILED');
      } else {
        setJobStatus(job, 'COMPLETED');
      }
    });
    if (batch.cancelRequested) return this.finish('CANCELLED', 'batch.cancelled');
    this.finish('COMPLETED', 'batch.success');
  }

  private finish(status: BatchStatus, eventType: string): void {
    this.setStatus(status);
    this.announce(eventType);
  }

  private setStatus(status: BatchStatus): void {
    this.batch.status = status;
    this.batch.updatedAt = nowIso();
  }
}

function setJobStatus(job: Job, status: Job['status']): void {
  job.status = status;
  job.updatedAt = nowIso();
}

export function batchView(ctx: EmulatorContext, batch: Batch, withResults: boolean) {
  return {
    id: batch.id,
    project_id: ctx.options.projectId,
    source_directory_id: batch.sourceDirectoryId,
    config: { job: { type: batch.jobType, configuration_id: batch.configurationId } },
    status: batch.status,
    created_at: batch.createdAt,
    updated_at: batch.updatedAt,
    results: withResults && batch.results ? batch.results.map((r) => ({ ...r, job_reference: r.job_reference && { ...r.job_reference } })) : null,
  };
}
