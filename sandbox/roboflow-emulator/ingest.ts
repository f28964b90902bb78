/**
 * Reference ingests: accept the request synchronously, then in the background download the references
 * file and every referenced file, fill shards, and send data-staging webhooks.
 */
import { randomUUID } from 'node:crypto';
import { chunk, mapWithLimit } from '../emulator-kit/concurrency';
import { KEEP_BYTES_UP_TO } from './content-sink';
import type { EmulatorContext } from './context';
import { badRequest } from './http-io';
import { inputBatchFor } from './input-batches';
import { applyPlanToReferencesIngest, type IngestRefusal } from './plan';
import { download } from './remote-fetch';
import { MAX_INLINE_REFERENCES, Reference, type IngestRequest } from './schemas';
import { stagingEvent } from './staging-events';
import { nowIso, type Batch, type Shard, type StagedFile } from './store';
import type { WebhookEvent } from './webhooks';

const SHARD_SIZE = 256;
const FETCH_CONCURRENCY = 8;
const FETCH_TIMEOUT_MS = 15_000;
const MAX_REFERENCES_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_VIDEO_BYTES = 1024 * 1024 * 1024;

export const SHARD_STATUS = {
  inProgress: { statusName: 'shard-ingest-in-progress', statusType: 'info' },
  completed: { statusName: 'shard-ingest-completed', statusType: 'success' },
  failed: { statusName: 'shard-ingest-failed', statusType: 'error' },
} as const;

export interface IngestResponse {
  ingestId: string;
  shardIds?: string[];
  duplicated: boolean;
}

export interface FailedFile {
  type: string;
  file_name: string;
  reason: string;
}

/** A whole-ingest failure, reported through ingest-status and failed shards. */
class IngestFailure extends Error {
  constructor(
    readonly type: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

interface IngestRun {
  batch: Batch;
  request: IngestRequest;
  ingestId: string;
  shards: Shard[];
  /** Set when the plan switch refuses signed-URL ingest during the ingest rather than at the request. */
  planRefusal?: IngestRefusal;
}

export function acceptIngest(ctx: EmulatorContext, batchId: string, displayName: string, request: IngestRequest): IngestResponse {
  const planRefusal = applyPlanToReferencesIngest(ctx);
  if (ctx.faults.current.refuseHttpReferences) refuseHttpUrls(request);
  const batch = inputBatchFor(ctx, batchId, displayName, 'sharded-batch', request.kind);
  const ingestId = request.ingestId ?? randomUUID().replaceAll('-', '');
  if (batch.ingestIds.has(ingestId)) return { ingestId, duplicated: true };
  batch.ingestIds.add(ingestId);

  const run: IngestRun = { batch, request, ingestId, shards: [], planRefusal };
  // Inline references are known now, so their shards exist (in progress) before the response is sent.
  if ('inline' in request.source) run.shards = createShards(run, request.source.inline.length);
  ctx.scope.run(() => runIngest(ctx, run), (err) => ctx.reportError(err));

  return request.kind === 'images'
    ? { ingestId, shardIds: run.shards.map((s) => s.shardId), duplicated: false }
    : { ingestId, duplicated: false };
}

/** The `refuseHttpReferences` switch: a plain-http references file or reference is refused at once. */
function refuseHttpUrls(request: IngestRequest): void {
  const urls = 'inline' in request.source ? request.source.inline.map((r) => r.url) : [request.source.url];
  const plain = urls.find((url) => URL.canParse(url) && new URL(url).protocol === 'http:');
  if (plain !== undefined) throw badRequest(`references must be https:// URLs; got one on http://${new URL(plain).host}`);
}

function createShards(run: IngestRun, referenceCount: number): Shard[] {
  const shards = Array.from({ length: Math.max(1, Math.ceil(referenceCount / SHARD_SIZE)) }, (): Shard => ({
    shardId: randomUUID(),
    ingestId: run.ingestId,
    ...SHARD_STATUS.inProgress,
    eventTimestamp: nowIso(),
    shardObjectsCount: 0,
    statusMetadata: { ingestId: run.ingestId },
  }));
  run.batch.shards.push(...shards);
  return shards;
}

async function runIngest(ctx: EmulatorContext, run: IngestRun): Promise<void> {
  await ctx.scope.sleep(ctx.options.ingestDelayMs);
  let references: Reference[];
  try {
    if (run.planRefusal) throw new IngestFailure(run.planRefusal.type, run.planRefusal.reason);
    references = 'inline' in run.request.source ? run.request.source.inline : await loadReferencesFile(ctx, run.request.source.url);
    assertTrustedHosts(ctx, references);
  } catch (err) {
    if (!(err instanceof IngestFailure)) throw err;
    return failIngest(ctx, run, err);
  }
  if (run.shards.length === 0) run.shards = createShards(run, references.length);

  const filesStatusEvents: WebhookEvent[] = [];
  const referenceChunks = chunk(references, SHARD_SIZE);
  for (const [index, shard] of run.shards.entries()) {
    const { ingested, failed } = await ingestShard(ctx, run, shard, referenceChunks[index] ?? []);
    filesStatusEvents.push(
      dataStagingEvent(run, shard.shardId, {
        type: 'ingest-files-status-notification-v1',
        success: true,
        ingested_files: ingested,
        failed_files: failed,
        content_truncated: false,
      }),
    );
  }
  const categories = run.request.notificationCategories;
  notify(ctx, run, [
    ...(categories.includes('files-status') ? filesStatusEvents : []),
    ...(categories.includes('ingest-status')
      ? [dataStagingEvent(run, null, { type: 'ingest-status-notification-v1', success: true })]
      : []),
  ]);
}

async function loadReferencesFile(ctx: EmulatorContext, url: string): Promise<Reference[]> {
  assertTrustedHosts(ctx, [{ name: 'references file', url }]);
  const result = await download(url, {
    closeSignal: ctx.scope.signal,
    timeoutMs: FETCH_TIMEOUT_MS,
    maxBytes: MAX_REFERENCES_FILE_BYTES,
    keepBytesUpTo: MAX_REFERENCES_FILE_BYTES,
  });
  if (!result.ok) throw new IngestFailure('references-file-download-failed', `references file ${result.reason}`);
  const references: Reference[] = [];
  const lines = result.data!.toString('utf8').split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const parsed = Reference.safeParse(parseJsonOrUndefined(line));
    if (!parsed.success) {
      throw new IngestFailure('invalid-references-file', `line ${index + 1} is not a JSON object with string "name" and "url"`);
    }
    references.push(parsed.data);
  }
  if (references.length === 0) throw new IngestFailure('invalid-references-file', 'references file has no entries');
  if (references.length > MAX_INLINE_REFERENCES) {
    throw new IngestFailure('references-limit-exceeded', `at most ${MAX_INLINE_REFERENCES} references per ingest`);
  }
  return references;
}

function parseJsonOrUndefined(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function assertTrustedHosts(ctx: EmulatorContext, references: readonly Reference[]): void {
  for (const { url } of references) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue; // unparsable URLs fail individually as invalid references
    }
    const distrusted = ctx.faults.current.untrustedHosts?.includes(parsed.hostname) ?? false;
    const trusted =
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') && ctx.options.trustedHosts.includes(parsed.hostname) && !distrusted;
    if (!trusted) throw new IngestFailure('unsafe-url-detected', `Untrusted domain found: ${withoutQuery(parsed)}`);
  }
}

/** Never echo a query string: for signed URLs it carries the credentials. */
function withoutQuery(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

async function ingestShard(
  ctx: EmulatorContext,
  run: IngestRun,
  shard: Shard,
  references: Reference[],
): Promise<{ ingested: string[]; failed: FailedFile[] }> {
  const { batch } = run;
  const outcomes = await mapWithLimit(references, FETCH_CONCURRENCY, async (ref): Promise<StagedFile | FailedFile> => {
    if (batch.reservedNames.has(ref.name)) {
      return { type: 'duplicated-file-name', file_name: ref.name, reason: `file name already present in batch ${batch.batchId}` };
    }
    if (!URL.canParse(ref.url)) return { type: 'invalid-reference', file_name: ref.name, reason: 'url is not a valid URL' };
    batch.reservedNames.add(ref.name);
    const outcome = await fetchReference(ctx, run, shard, ref);
    if ('type' in outcome) batch.reservedNames.delete(ref.name);
    return outcome;
  });

  const ingested: string[] = [];
  const failed: FailedFile[] = [];
  for (const outcome of outcomes) {
    if ('type' in outcome) failed.push(outcome);
    else {
      batch.files.push(outcome);
      ingested.push(outcome.fileName);
    }
  }
  Object.assign(shard, {
    ...SHARD_STATUS.completed,
    eventTimestamp: nowIso(),
    shardObjectsCount: ingested.length,
    statusMetadata: { ingestId: run.ingestId, referencesCount: references.length, ingestedFiles: ingested.length, failedFiles: failed.length },
  });
  return { ingested, failed };
}

async function fetchReference(ctx: EmulatorContext, run: IngestRun, shard: Shard, ref: Reference): Promise<StagedFile | FailedFile> {
  const isImage = run.request.kind === 'images';
  const maxBytes = isImage ? ctx.options.maxImageBytes : MAX_VIDEO_BYTES;
  const result = await download(ref.url, {
    closeSignal: ctx.scope.signal,
    timeoutMs: FETCH_TIMEOUT_MS,
    maxBytes,
    keepBytesUpTo: KEEP_BYTES_UP_TO,
  });
  if (!result.ok) {
    return result.problem === 'too-large'
      ? { type: 'file-size-limit-exceeded', file_name: ref.name, reason: `Max size of single ${isImage ? 'image' : 'video'} is ${maxBytes}B.` }
      : { type: 'file-download-failed', file_name: ref.name, reason: result.reason };
  }
  const contentId = ctx.store.putContent(
    result.data ? { kind: 'bytes', data: result.data, mimeType: result.mimeType } : { kind: 'placeholder', size: result.size, mimeType: result.mimeType },
  );
  return {
    fileName: ref.name,
    partName: null,
    shardId: shard.shardId,
    contentType: isImage ? 'image' : 'video',
    nestedContentType: null,
    size: result.size,
    sha256: result.sha256,
    contentId,
  };
}

function failIngest(ctx: EmulatorContext, run: IngestRun, failure: IngestFailure): void {
  if (run.shards.length === 0) run.shards = createShards(run, 0);
  for (const shard of run.shards) {
    Object.assign(shard, {
      ...SHARD_STATUS.failed,
      eventTimestamp: nowIso(),
      shardObjectsCount: 0,
      statusMetadata: { ingestId: run.ingestId, errorType: failure.type, reason: failure.reason },
    });
  }
  if (!run.request.notificationCategories.includes('ingest-status')) return;
  notify(ctx, run, [
    dataStagingEvent(run, null, {
      type: 'ingest-status-notification-v1',
      success: false,
      error_details: { type: failure.type, reason: failure.reason },
    }),
  ]);
}

function dataStagingEvent(run: IngestRun, shardId: string | null, notification: Record<string, unknown>): WebhookEvent {
  return stagingEvent(run.ingestId, run.batch.batchId, shardId, notification);
}

function notify(ctx: EmulatorContext, run: IngestRun, events: WebhookEvent[]): void {
  if (run.request.notificationsURL) ctx.webhooks.sendAll(run.request.notificationsURL, events);
}
