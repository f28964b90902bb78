/**
 * Upload endpoints of Data Staging: `upload/image` (multipart, staged at once into a simple batch),
 * `upload/video` and `bulk-upload/image-files` (answer `signedURLDetails`; the bytes come by PUT to the
 * emulator's own signed URL, see upload-puts.ts).
 */
import { randomUUID } from 'node:crypto';
import { route, type ApiRequest, type Route } from '../emulator-kit/router';
import type { EmulatorContext } from './context';
import { badRequest } from './http-io';
import { MAX_VIDEO_BYTES } from './ingest';
import { inputBatchFor } from './input-batches';
import { checkBatchId } from './schemas';
import type { Batch, UploadSlot } from './store';
import { stageFile } from './upload-staging';

/** An API request with its raw body, for the multipart upload. */
export interface RawApiRequest extends ApiRequest {
  raw: Buffer;
  contentType: string;
}

const DS = '/data-staging/v1/external/:workspace';

export function uploadRoutes(ctx: EmulatorContext): Route<RawApiRequest>[] {
  const batchFor = (req: ApiRequest, batchType: 'sharded-batch' | 'simple-batch', kind: 'images' | 'videos'): Batch => {
    const batchId = checkBatchId(req.params.batchId!);
    return inputBatchFor(ctx, batchId, req.query.displayName || batchId, batchType, kind);
  };

  return [
    route<RawApiRequest>('POST', `${DS}/batches/:batchId/upload/image`, async (req) => {
      const fileName = requiredFileName(req);
      const file = await singleFilePart(req);
      if (file.size > ctx.options.maxImageBytes) throw badRequest(`Max size of single image is ${ctx.options.maxImageBytes}B.`);
      const batch = batchFor(req, 'simple-batch', 'images');
      stageFile(ctx, batch, { fileName, shardId: null, contentType: 'image' }, Buffer.from(await file.arrayBuffer()), file.type);
      return { status: 'ok' };
    }),

    route<RawApiRequest>('POST', `${DS}/batches/:batchId/upload/video`, (req) => {
      const fileName = requiredFileName(req);
      const batch = batchFor(req, 'simple-batch', 'videos');
      const slot = openSlot(ctx, { batchId: batch.batchId, kind: 'video', fileName, maxBytes: MAX_VIDEO_BYTES });
      return { status: 'ok', signedURLDetails: { ...signedUrlDetails(ctx, slot), maxFileSize: slot.maxBytes } };
    }),

    route<RawApiRequest>('POST', `${DS}/batches/:batchId/bulk-upload/image-files`, (req) => {
      const batch = batchFor(req, 'sharded-batch', 'images');
      const slot = openSlot(ctx, { batchId: batch.batchId, kind: 'image-archive', shardId: randomUUID(), maxBytes: ctx.options.maxArchiveBytes });
      return {
        status: 'ok',
        signedURLDetails: {
          shardId: slot.shardId,
          ...signedUrlDetails(ctx, slot),
          maxNumberOfImages: ctx.options.maxImagesPerArchive,
          maxShardSize: slot.maxBytes,
        },
      };
    }),
  ];
}

function requiredFileName(req: ApiRequest): string {
  const fileName = req.query.fileName;
  if (!fileName) throw badRequest('query parameter fileName is required');
  return fileName;
}

/** The one file of a multipart body, whatever its field is named (the docs say `file`; the official client names it after the file). */
async function singleFilePart(req: RawApiRequest): Promise<File> {
  if (!req.contentType.toLowerCase().startsWith('multipart/form-data')) throw badRequest('upload/image needs a multipart/form-data body');
  let form: FormData;
  try {
    form = await new Response(req.raw, { headers: { 'content-type': req.contentType } }).formData();
  } catch {
    throw badRequest('malformed multipart/form-data body');
  }
  const files = [...form.values()].filter((value): value is File => typeof value !== 'string');
  if (files.length !== 1) throw badRequest(`upload/image needs exactly one file part; got ${files.length}`);
  return files[0]!;
}

function openSlot(ctx: EmulatorContext, init: Omit<UploadSlot, 'uploadId' | 'extensionHeaders'>): UploadSlot {
  const uploadId = randomUUID();
  const slot: UploadSlot = {
    ...init,
    uploadId,
    // Headers a GCS-style signed URL would have been signed with: the size range, and metadata naming the batch.
    extensionHeaders: { 'X-Goog-Content-Length-Range': `0,${init.maxBytes}`, 'X-Goog-Meta-Batch-Id': init.batchId },
  };
  ctx.store.uploadSlots.set(uploadId, slot);
  return slot;
}

function signedUrlDetails(ctx: EmulatorContext, slot: UploadSlot) {
  return { uploadURL: ctx.uploads.urlFor(slot.uploadId), method: 'PUT', extensionHeaders: { ...slot.extensionHeaders } };
}
