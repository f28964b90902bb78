/**
 * Staging uploaded bytes: single images and videos land in their batch at once (a re-upload under the same
 * name replaces the file); an uploaded archive becomes a shard that is indexed in the background like a
 * reference ingest's, with its data-staging webhooks when the archive carried a notification config.
 */
import type { EmulatorContext } from './context';
import { ContentSink } from './content-sink';
import { SHARD_STATUS, type FailedFile } from './ingest';
import type { NotificationCategory } from './schemas';
import { stagingEvent } from './staging-events';
import { nowIso, type Batch, type Shard, type StagedFile, type StoredContent } from './store';
import type { WebhookEvent } from './webhooks';

export interface StoredBytes {
  content: StoredContent;
  size: number;
  sha256: string;
}

interface FileMeta {
  fileName: string;
  shardId: string | null;
  contentType: 'image' | 'video';
}

/** Stages bytes held in memory (a multipart image). */
export function stageFile(ctx: EmulatorContext, batch: Batch, meta: FileMeta, data: Buffer, mimeType: string): void {
  const sink = new ContentSink();
  sink.write(data);
  stageSingleUpload(ctx, batch, meta, sink.finish(mimeType || 'application/octet-stream'));
}

/** A single upload: the file is in the batch when the request is answered. */
export function stageSingleUpload(ctx: EmulatorContext, batch: Batch, meta: FileMeta, stored: StoredBytes): void {
  const file = stagedFile(ctx, meta, stored);
  const existing = batch.files.findIndex((f) => f.fileName === meta.fileName);
  if (existing >= 0) batch.files[existing] = file;
  else batch.files.push(file);
  batch.reservedNames.add(meta.fileName);
}

function stagedFile(ctx: EmulatorContext, meta: FileMeta, stored: StoredBytes): StagedFile {
  return {
    ...meta,
    partName: null,
    nestedContentType: null,
    size: stored.size,
    sha256: stored.sha256,
    contentId: ctx.store.putContent(stored.content),
  };
}

/** What a tar archive held, as read while it was uploaded. */
export interface ReadArchive {
  images: { name: string; stored?: StoredBytes; failure?: FailedFile }[];
  notifications?: { ingestId?: string; notificationsURL: string; notificationCategories: NotificationCategory[] };
  /** Why the archive as a whole cannot be ingested (unreadable tar, too many images). */
  problem?: { type: string; reason: string };
}

/** Registers the archive's shard (in progress) now and indexes it in the background. */
export function acceptArchive(ctx: EmulatorContext, batch: Batch, shardId: string, archive: ReadArchive): void {
  const ingestId = archive.notifications?.ingestId ?? shardId;
  const shard: Shard = {
    shardId,
    ingestId,
    ...SHARD_STATUS.inProgress,
    eventTimestamp: nowIso(),
    shardObjectsCount: 0,
    statusMetadata: { ingestId },
  };
  batch.shards.push(shard);
  ctx.scope.run(
    async () => {
      await ctx.scope.sleep(ctx.options.ingestDelayMs);
      indexArchive(ctx, batch, shard, archive);
    },
    (err) => ctx.reportError(err),
  );
}

function indexArchive(ctx: EmulatorContext, batch: Batch, shard: Shard, archive: ReadArchive): void {
  const event = (notification: Record<string, unknown>) => stagingEvent(shard.ingestId, batch.batchId, shard.shardId, notification);
  if (archive.problem) {
    Object.assign(shard, {
      ...SHARD_STATUS.failed,
      eventTimestamp: nowIso(),
      statusMetadata: { ingestId: shard.ingestId, errorType: archive.problem.type, reason: archive.problem.reason },
    });
    return notify(ctx, archive, [], event({ type: 'ingest-status-notification-v1', success: false, error_details: archive.problem }));
  }
  const ingested: string[] = [];
  const failed: FailedFile[] = [];
  for (const image of archive.images) {
    if (image.failure) failed.push(image.failure);
    else if (batch.reservedNames.has(image.name)) {
      failed.push({ type: 'duplicated-file-name', file_name: image.name, reason: `file name already present in batch ${batch.batchId}` });
    } else {
      batch.reservedNames.add(image.name);
      batch.files.push(stagedFile(ctx, { fileName: image.name, shardId: shard.shardId, contentType: 'image' }, image.stored!));
      ingested.push(image.name);
    }
  }
  Object.assign(shard, {
    ...SHARD_STATUS.completed,
    eventTimestamp: nowIso(),
    shardObjectsCount: ingested.length,
    statusMetadata: { ingestId: shard.ingestId, imagesInArchive: archive.images.length, ingestedFiles: ingested.length, failedFiles: failed.length },
  });
  notify(
    ctx,
    archive,
    [event({ type: 'ingest-files-status-notification-v1', success: true, ingested_files: ingested, failed_files: failed, content_truncated: false })],
    event({ type: 'ingest-status-notification-v1', success: true }),
  );
}

function notify(ctx: EmulatorContext, archive: ReadArchive, filesStatus: WebhookEvent[], ingestStatus: WebhookEvent): void {
  const config = archive.notifications;
  if (!config) return;
  ctx.webhooks.sendAll(config.notificationsURL, [
    ...(config.notificationCategories.includes('files-status') ? filesStatus : []),
    ...(config.notificationCategories.includes('ingest-status') ? [ingestStatus] : []),
  ]);
}
