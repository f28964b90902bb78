/**
 * The signed PUT URLs handed out by `upload/video` and `bulk-upload/image-files`, served by the emulator on
 * its own address as a storage service would: signature checked, every announced extension header required
 * with its exact value, the size range enforced, the body streamed (an archive is parsed as it arrives).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../emulator-kit/http-io';
import type { RecordedRequest } from '../emulator-kit/recorded-request';
import { ArchiveReader } from './archive-reader';
import type { EmulatorContext } from './context';
import { ContentSink } from './content-sink';
import type { UploadSlot } from './store';
import { acceptArchive, stageSingleUpload } from './upload-staging';

export const UPLOAD_PREFIX = '/_uploads/';
// Past the size range, this much more is read and discarded (so the client sees the 400) before the connection is cut.
const MAX_DISCARDED_BYTES = 8 * 1024 * 1024;

export async function serveUpload(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, url: URL, record: RecordedRequest): Promise<void> {
  const refuse = (status: number, error: string) => {
    record.status = status;
    sendJson(res, status, { error }, { connection: 'close' });
  };
  if (req.method !== 'PUT') return refuse(405, 'method not allowed');
  const uploadId = ctx.uploads.verifiedId(url);
  if (uploadId === undefined) return refuse(403, 'SignatureDoesNotMatch: signature does not match or URL has expired');
  const slot = ctx.store.uploadSlots.get(uploadId);
  if (!slot) return refuse(404, 'NoSuchUpload');
  const headerProblem = extensionHeaderProblem(slot, req);
  if (headerProblem) return refuse(400, `MalformedSecurityHeader: ${headerProblem}`);
  if (req.headers['content-length'] === undefined && ctx.faults.current.uploadsRequireContentLength) {
    return refuse(411, 'MissingContentLength: the PUT must state Content-Length');
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > slot.maxBytes) return refuse(400, `EntityTooLarge: the body is ${declared} bytes; at most ${slot.maxBytes} are allowed`);

  const body = await readUpload(ctx, slot, req);
  if (body === 'cut') return void req.socket.destroy();
  if (body === 'too-large') return refuse(400, `EntityTooLarge: at most ${slot.maxBytes} bytes are allowed`);
  // A scripted failure (`failures` matching `/_uploads/`) answers once the bytes are in, and stages nothing.
  const injected = ctx.faults.take('PUT', url.pathname);
  if (injected) {
    record.status = injected.status;
    return sendJson(res, injected.status, injected.body, injected.headers);
  }
  if (slot.uploadedSha256 !== undefined) {
    if (slot.uploadedSha256 !== body.sha256) return refuse(409, 'this upload URL was already used for other bytes');
  } else {
    slot.uploadedSha256 = body.sha256;
    body.stage();
  }
  record.status = 200;
  res.writeHead(200, { 'content-length': 0 }).end();
}

function extensionHeaderProblem(slot: UploadSlot, req: IncomingMessage): string | undefined {
  for (const [name, value] of Object.entries(slot.extensionHeaders)) {
    const given = req.headers[name.toLowerCase()];
    if (given === undefined) return `header ${name} was signed but is missing from the request`;
    if (given !== value) return `header ${name} does not carry the signed value`;
  }
  return undefined;
}

type UploadBody = { sha256: string; stage: () => void } | 'too-large' | 'cut';

/** Streams the body through the slot's reader; nothing is staged until `stage()`. */
async function readUpload(ctx: EmulatorContext, slot: UploadSlot, req: IncomingMessage): Promise<UploadBody> {
  const whole = createHash('sha256');
  const repeat = slot.uploadedSha256 !== undefined;
  const video = slot.kind === 'video' && !repeat ? new ContentSink() : undefined;
  const archive =
    slot.kind === 'image-archive' && !repeat
      ? new ArchiveReader({ maxImages: ctx.options.maxImagesPerArchive, maxImageBytes: ctx.options.maxImageBytes })
      : undefined;
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > slot.maxBytes + MAX_DISCARDED_BYTES) return 'cut';
    if (size > slot.maxBytes) continue;
    whole.update(chunk);
    video?.write(chunk);
    await archive?.write(chunk);
  }
  if (size > slot.maxBytes) return 'too-large';
  const sha256 = whole.digest('hex');
  const batch = ctx.store.getBatch(slot.batchId);
  if (video) {
    const stored = video.finish(req.headers['content-type'] ?? 'application/octet-stream');
    return { sha256, stage: () => stageSingleUpload(ctx, batch, { fileName: slot.fileName!, shardId: null, contentType: 'video' }, stored) };
  }
  if (archive) {
    const read = await archive.end();
    return { sha256, stage: () => acceptArchive(ctx, batch, slot.shardId!, read) };
  }
  return { sha256, stage: () => {} };
}
