/** Data Staging endpoints (`/data-staging/v1/external/{workspace}/…`). */
import { route, type ApiRequest, type Route } from '../emulator-kit/router';
import type { EmulatorContext } from './context';
import { HttpError } from './http-io';
import { acceptIngest } from './ingest';
import { paginate } from './pagination';
import { checkBatchId, parseIngestBody, type MediaKind } from './schemas';
import type { Batch, Shard, StagedFile } from './store';

const DS = '/data-staging/v1/external/:workspace';

export function stagingRoutes(ctx: EmulatorContext): Route[] {
  const pageSize = ctx.options.pageSize;
  const batchOf = (req: ApiRequest) => ctx.store.getBatch(checkBatchId(req.params.batchId!));

  const ingest = (kind: MediaKind) => (req: ApiRequest) => {
    const batchId = checkBatchId(req.params.batchId!);
    const request = parseIngestBody(kind, req.body);
    return acceptIngest(ctx, batchId, req.query.displayName || batchId, request);
  };

  const notEmulated = (req: ApiRequest) => {
    checkBatchId(req.params.batchId!);
    throw new HttpError(501, 'roboql-ingest is not emulated');
  };

  return [
    route('POST', `${DS}/batches/:batchId/bulk-upload/image-references`, ingest('images')),
    route('POST', `${DS}/batches/:batchId/bulk-upload/video-references`, ingest('videos')),
    route('POST', `${DS}/batches/:batchId/roboql-ingest`, notEmulated),

    route('GET', `${DS}/batches`, (req) => {
      const page = paginate([...ctx.store.batches.values()], req.query, pageSize, 'batches');
      return { batches: page.items.map(batchView), nextPageToken: page.nextPageToken };
    }),
    route('GET', `${DS}/batches/:batchId`, (req) => ({ batch: batchView(batchOf(req)) })),
    route('GET', `${DS}/batches/:batchId/count`, (req) => ({
      count: ctx.store.filesOf(batchOf(req), req.query.partName).length,
    })),
    route('GET', `${DS}/batches/:batchId/shards`, (req) => {
      const batch = batchOf(req);
      const page = paginate(batch.shards, req.query, pageSize, `shards:${batch.batchId}`);
      return { shards: page.items.map(shardView), nextPageToken: page.nextPageToken };
    }),
    route('GET', `${DS}/batches/:batchId/parts`, (req) => ({ batchParts: batchOf(req).parts.map((p) => ({ ...p })) })),
    route('GET', `${DS}/batches/:batchId/list`, (req) => {
      const batch = batchOf(req);
      const partName = req.query.partName ?? '';
      const files = ctx.store.filesOf(batch, partName);
      const page = paginate(files, req.query, pageSize, `list:${batch.batchId}:${partName}`);
      return {
        filesMetadata: page.items.map((file) => fileView(ctx, file)),
        nextPageToken: page.nextPageToken,
      };
    }),
  ];
}

function batchView(batch: Batch) {
  return {
    displayName: batch.displayName,
    batchId: batch.batchId,
    batchType: batch.batchType,
    batchContentType: batch.batchContentType,
    createdDate: batch.createdDate,
    expiryDate: batch.expiryDate,
  };
}

function shardView(shard: Shard) {
  return {
    shardId: shard.shardId,
    statusName: shard.statusName,
    statusType: shard.statusType,
    eventTimestamp: shard.eventTimestamp,
    shardObjectsCount: shard.shardObjectsCount,
    statusMetadata: shard.statusMetadata,
  };
}

function fileView(ctx: EmulatorContext, file: StagedFile) {
  return {
    downloadURL: ctx.downloads.urlFor(file.contentId),
    fileName: file.fileName,
    partName: file.partName,
    shardId: file.shardId,
    contentType: file.contentType,
    nestedContentType: file.nestedContentType,
  };
}
