/**
 * `POST /api/v1/beta/directories/{id}/files/upload`: the multipart body is parsed as it streams in.
 * The file part is hashed and counted chunk by chunk and only its first KEEP_HEAD_BYTES are kept.
 * After a problem the rest of the body is still read (and discarded) so the client gets the answer.
 */
import { createHash, type Hash } from 'node:crypto';
import type { EmulatorContext } from './context';
import { badRequest, HttpError, unprocessable } from './http-io';
import { boundaryOf, MultipartError, MultipartParser, type PartInfo } from './multipart';
import type { ApiRequest } from './router';
import { KEEP_HEAD_BYTES, type Directory, type DirectoryFile, type MetadataValue } from './store';

const FILE_FIELD = 'upload_file';
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_PARTS = 32;

/** Upload counters for tests: bytes received and concurrency. */
export class UploadStats {
  private inFlight = 0;
  private highWater = 0;
  private bytes = 0;

  begin(): void {
    this.inFlight += 1;
    this.highWater = Math.max(this.highWater, this.inFlight);
  }

  end(): void {
    this.inFlight -= 1;
  }

  received(n: number): void {
    this.bytes += n;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get maxConcurrent(): number {
    return this.highWater;
  }
}

interface FilePart {
  fileName: string;
  mimeType: string;
  size: number;
  hash: Hash;
  head: Buffer[];
  headBytes: number;
}

/** What the request record shows of a multipart body. */
interface UploadSummary {
  fields: Record<string, string>;
  fileSize: number | null;
  fileName: string | null;
}

export async function receiveUpload(ctx: EmulatorContext, directory: Directory, req: ApiRequest): Promise<DirectoryFile> {
  const boundary = boundaryOf(req.raw.headers['content-type']);
  if (!boundary) {
    throw unprocessable([{ type: 'missing', loc: ['body', FILE_FIELD], msg: 'Field required (send multipart/form-data)' }]);
  }
  const summary: UploadSummary = { fields: {}, fileSize: null, fileName: null };
  req.record.body = summary;

  const maxBytes = ctx.options.maxUploadBytes;
  let failure: HttpError | undefined;
  let file: FilePart | undefined;
  let current: { info: PartInfo; chunks: Buffer[]; size: number } | undefined;
  let parts = 0;
  const fail = (err: HttpError) => {
    failure ??= err;
  };

  const parser = new MultipartParser(boundary, {
    onPartStart(info) {
      parts += 1;
      if (parts > MAX_PARTS) fail(badRequest(`multipart body has more than ${MAX_PARTS} parts`));
      current = { info, chunks: [], size: 0 };
      if (info.name === FILE_FIELD) {
        if (file) fail(badRequest(`${FILE_FIELD} was sent more than once`));
        file = {
          fileName: info.filename || 'upload',
          mimeType: info.contentType || 'application/octet-stream',
          size: 0,
          hash: createHash('sha256'),
          head: [],
          headBytes: 0,
        };
        summary.fileName = file.fileName;
        summary.fileSize = 0;
      }
    },
    onPartData(data) {
      if (!current) return;
      if (current.info.name === FILE_FIELD && file) {
        ctx.uploads.received(data.length);
        file.size += data.length;
        summary.fileSize = file.size;
        if (file.size > maxBytes) return fail(new HttpError(413, `upload_file exceeds the maximum size of ${maxBytes} bytes`));
        if (failure) return;
        file.hash.update(data);
        if (file.headBytes < KEEP_HEAD_BYTES) {
          const take = data.subarray(0, KEEP_HEAD_BYTES - file.headBytes);
          file.head.push(Buffer.from(take));
          file.headBytes += take.length;
        }
        return;
      }
      current.size += data.length;
      if (current.size > MAX_FIELD_BYTES) return fail(new HttpError(413, `form field ${current.info.name} exceeds ${MAX_FIELD_BYTES} bytes`));
      if (!failure) current.chunks.push(Buffer.from(data));
    },
    onPartEnd() {
      if (current && current.info.name !== FILE_FIELD && !failure && current.info.filename === undefined) {
        summary.fields[current.info.name] = Buffer.concat(current.chunks).toString('utf8');
      }
      current = undefined;
    },
  });

  let parserBroken = false;
  const feed = (write: () => void) => {
    if (parserBroken) return;
    try {
      write();
    } catch (err) {
      if (!(err instanceof MultipartError)) throw err;
      parserBroken = true;
      fail(badRequest(`malformed multipart body: ${err.message}`));
    }
  };

  ctx.uploads.begin();
  try {
    // Never leave this loop early: that would destroy the socket before the client reads the answer.
    for await (const chunk of req.raw) feed(() => parser.write(chunk as Buffer));
    feed(() => parser.end());
  } finally {
    ctx.uploads.end();
  }
  if (failure) throw failure;
  if (!file) throw unprocessable([{ type: 'missing', loc: ['body', FILE_FIELD], msg: 'Field required' }]);

  const fields = summary.fields;
  const displayName = nonEmpty(fields.display_name) ?? file.fileName;
  const externalFileId = nonEmpty(fields.external_file_id) ?? null;
  return ctx.store.addFile(directory, {
    displayName,
    uniqueId: nonEmpty(fields.unique_id) ?? externalFileId ?? displayName,
    externalFileId,
    metadata: parseMetadata(fields.metadata),
    content: {
      fileName: file.fileName,
      mimeType: file.mimeType,
      size: file.size,
      sha256: file.hash.digest('hex'),
      head: Buffer.concat(file.head),
    },
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** `metadata` is a JSON object encoded as a string; values are strings, numbers, booleans or string lists. */
function parseMetadata(raw: string | undefined): Record<string, MetadataValue> {
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest('metadata must be a JSON object encoded as a string; it is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('metadata must be a JSON object encoded as a string');
  }
  for (const [key, value] of Object.entries(parsed)) {
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!ok) throw badRequest(`metadata.${key} must be a string, number, boolean or list of strings`);
  }
  return parsed as Record<string, MetadataValue>;
}
