import type { Bucket, Storage } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RemoteError } from '../errors';
import { countedStream } from './count-bytes';
import { gcsError, isUploadMismatch } from './gcs-errors';
import { DEFAULT_GCS_URL_BASE, signGcsUrlV4, type BlobSigner } from './gcs-v4-signer';
import type { ListOptions, ListPage, ObjectStore, PresignOptions, StoredObject, WriteBody, WriteOptions } from './port';
import { verifyStoredSize } from './verify-size';

/** Resumable upload chunk: a multiple of 256 KiB; one chunk is buffered at a time. */
export const DEFAULT_GCS_CHUNK_BYTES = 8 * 1024 * 1024;
const DEFAULT_PAGE_SIZE = 1000;
/** Only what the pipeline needs from a listing (GCS returns much more per object by default). */
const LIST_FIELDS = 'items(name,size,generation,updated),nextPageToken';

export interface GcsStoreOptions {
  signer: BlobSigner;
  /** Origin of signed URLs. @default https://storage.googleapis.com */
  signedUrlBase?: string;
  /** Project billed for requester-pays buckets: sent on every call and signed into URLs. */
  userProject?: string;
  uploadChunkBytes?: number;
  /**
   * How long signatures are guaranteed to verify, when less than the URL lifetime may be:
   * signBlob signs with Google-managed keys that rotate, and Google guarantees such signatures
   * for 12 hours only. Undefined: as long as the key (a service-account key).
   */
  signatureLifetimeSeconds?: number;
}

/** Google guarantees signBlob signatures for at least 12 hours (key rotation may end them after that). */
export const SIGN_BLOB_GUARANTEED_SECONDS = 12 * 60 * 60;

interface ListedItem {
  name: string;
  size?: string | number;
  generation?: string | number;
  updated?: string;
}

/**
 * A Google Cloud Storage bucket through `@google-cloud/storage` 7 (JSON API): listing page by
 * page with explicit page tokens (`autoPaginate: false`; with auto-pagination `maxResults`
 * would cap the whole listing), V4 signed URLs only, streamed uploads checked by size and CRC32C.
 */
export class GcsStore implements ObjectStore {
  private readonly handle: Bucket;

  constructor(
    storage: Storage,
    readonly bucket: string,
    private readonly options: GcsStoreOptions,
  ) {
    this.handle = storage.bucket(bucket, options.userProject ? { userProject: options.userProject } : undefined);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListPage> {
    let pageToken = options.startToken;
    do {
      const [items, next, response] = await this.handle
        .getFiles({
          prefix,
          maxResults: options.pageSize ?? DEFAULT_PAGE_SIZE,
          pageToken,
          autoPaginate: false,
          fields: options.delimiter ? `${LIST_FIELDS},prefixes` : LIST_FIELDS,
          // startOffset includes the key itself; it is left out below.
          ...(options.startAfter ? { startOffset: options.startAfter } : {}),
          ...(options.delimiter ? { delimiter: options.delimiter } : {}),
        })
        .catch((err: unknown) => {
          throw gcsError({ operation: 'objects.list', bucket: this.bucket, key: prefix }, err);
        });
      // With `fields`, the library hands back the raw object resources instead of File instances.
      const listed = (items as unknown as ListedItem[]).filter((o) => o.name !== options.startAfter);
      const objects: StoredObject[] = listed.map((o) => ({
        key: o.name,
        size: Number(o.size ?? 0),
        // The generation changes exactly when the content does (an ETag also changes on metadata edits).
        etag: o.generation === undefined ? undefined : String(o.generation),
        lastModified: o.updated ? new Date(o.updated) : undefined,
      }));
      pageToken = (next as { pageToken?: string } | null)?.pageToken || undefined;
      const commonPrefixes = options.delimiter ? ((response as { prefixes?: string[] } | undefined)?.prefixes ?? []) : undefined;
      yield { objects, nextToken: pageToken, ...(commonPrefixes ? { commonPrefixes } : {}) };
    } while (pageToken);
  }

  presignGet(key: string, { expiresInSeconds }: PresignOptions): Promise<string> {
    return signGcsUrlV4(this.options.signer, {
      bucket: this.bucket,
      key,
      expiresInSeconds,
      urlBase: this.options.signedUrlBase ?? DEFAULT_GCS_URL_BASE,
      query: this.options.userProject ? { userProject: this.options.userProject } : undefined,
    });
  }

  async write(key: string, body: WriteBody, options: WriteOptions = {}): Promise<{ bytes: number }> {
    const chunkBytes = this.options.uploadChunkBytes ?? DEFAULT_GCS_CHUNK_BYTES;
    const counted = countedStream(body);
    // Up to one chunk is read first: a body that ends within it (summaries, small results, empty
    // files) goes in one multipart request; a longer one as a chunked resumable upload, one chunk
    // in memory at a time.
    const { head, rest } = await readAhead(counted, chunkBytes);
    const file = this.handle.file(key);
    // The library computes the CRC32C of the bytes as they stream and compares it with the one GCS
    // answers for the stored object; on a mismatch it deletes the object and fails the upload.
    const sink = file.createWriteStream({
      resumable: rest !== undefined,
      chunkSize: rest === undefined ? undefined : chunkBytes,
      contentType: options.contentType,
      validation: 'crc32c',
    });
    let sentCrc32c: string | undefined;
    sink.on('crc32c', (value: string) => (sentCrc32c = value));
    const call = { operation: 'objects.insert', bucket: this.bucket, key } as const;
    try {
      await pipeline(rest ?? Readable.from([Buffer.concat(head)]), sink);
    } catch (err) {
      if (err === counted.errored) throw err; // the body's own failure, as it was
      if (isUploadMismatch(err)) {
        const stored = (file.metadata as { crc32c?: string }).crc32c;
        throw new RemoteError(
          `${call.operation} gs://${this.bucket}/${key}: the stored object differs from the bytes sent ` +
            `(crc32c ${sentCrc32c ?? '?'} sent, ${stored ?? 'none'} stored); the object was removed`,
        );
      }
      throw gcsError(call, err);
    }
    // The upload's answer is the stored object's metadata: no second request for its size.
    const stored = file.metadata.size === undefined ? undefined : Number(file.metadata.size);
    return { bytes: verifyStoredSize(`gs://${this.bucket}/${key}`, stored, counted.bytes, options.expectedBytes) };
  }

  async read(key: string): Promise<Readable> {
    // The request starts when the stream is first read; a missing object errors the stream.
    const stream = this.handle.file(key).createReadStream();
    const call = { operation: 'objects.get', bucket: this.bucket, key } as const;
    // Runs before the consumer's listeners: the error they see names the object and the status.
    stream.prependListener('error', (err: Error & { code?: unknown }) => {
      if (typeof err.code === 'number') err.message = gcsError(call, err).message;
    });
    return stream;
  }

  async sizeOf(key: string): Promise<number | undefined> {
    try {
      const [metadata] = await this.handle.file(key).getMetadata();
      return Number(metadata.size ?? 0);
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return undefined;
      throw gcsError({ operation: 'objects.get', bucket: this.bucket, key }, err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.handle.file(key).delete({ ignoreNotFound: true });
    } catch (err) {
      throw gcsError({ operation: 'objects.delete', bucket: this.bucket, key }, err);
    }
  }

  /**
   * Key signatures last as long as the key: undefined. signBlob signatures are guaranteed for 12
   * hours, so the run warns when URLs are meant to live longer.
   */
  async credentialsExpiry(): Promise<Date | undefined> {
    const seconds = this.options.signatureLifetimeSeconds;
    return seconds === undefined ? undefined : new Date(Date.now() + seconds * 1000);
  }
}

/**
 * Reads a stream until more than `limit` bytes arrived or it ended. `rest` (the whole stream,
 * the bytes read included) is undefined when it ended within the limit.
 */
async function readAhead(stream: Readable, limit: number): Promise<{ head: Buffer[]; rest?: Readable }> {
  const iterator: AsyncIterator<Buffer> = stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let bytes = 0;
  while (bytes <= limit) {
    const next = await iterator.next();
    if (next.done) return { head };
    head.push(next.value);
    bytes += next.value.length;
  }
  const rest = Readable.from(
    (async function* () {
      while (head.length > 0) yield head.shift()!; // released as they go
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
  );
  return { head, rest };
}
