import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { RemoteError } from '../errors';
import { ContentDigest } from './content-digest';
import { countedStream } from './count-bytes';
import { presignerFor, type SigV4Presigner } from './sigv4-presigner';
import type { ListOptions, ListPage, ObjectStore, PresignOptions, StoredObject, WriteBody, WriteOptions } from './port';
import { judgeStoredContent, type ContentVerdict, type StoredObjectFacts } from './s3-content-check';
import { verifyStoredSize } from './verify-size';
import { decodeS3UrlEncodedKey } from './s3-url-encoded-key';

/** Upload part size: big enough for few requests, small enough to keep memory flat (4 parts in flight). */
const PART_SIZE = 8 * 1024 * 1024;

export interface S3StoreOptions {
  /**
   * Requester-pays bucket: list, get, head and upload requests carry `RequestPayer: 'requester'`
   * (the caller's account pays). Presigned GET URLs must carry `x-amz-request-payer=requester`
   * too (a signed query parameter), or S3 answers 403 to whoever downloads them.
   */
  requestPayer?: 'requester';
  /**
   * Confirm every write by reading the object back and comparing its CRC32, whatever the store
   * reports. ETags and S3's multipart checksums are derived from the parts as received, so only a
   * read-back catches a store that corrupts data after that (e.g. while assembling parts).
   * Costs one GET of the whole object per write. @default false
   */
  readBack?: boolean;
}

/** What a write sent, and what the store answered (PutObject's or CompleteMultipartUpload's answer). */
interface SentObject {
  bytes: number;
  answer: StoredObjectFacts;
}

export class S3Store implements ObjectStore {
  /** `'requester'` for a requester-pays bucket; presigned URLs must sign it in (see S3StoreOptions). */
  readonly requestPayer?: 'requester';
  private readonly readBack: boolean;
  /** Fast SigV4 signer, byte-identical to getSignedUrl (which it falls back to); one per client. */
  private readonly presigner: SigV4Presigner;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    options: S3StoreOptions = {},
  ) {
    this.requestPayer = options.requestPayer;
    this.readBack = options.readBack ?? false;
    this.presigner = presignerFor(client);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListPage> {
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: options.pageSize, startingToken: options.startToken },
      // URL-encoded keys: XML cannot carry every key raw (parsers turn a CR into LF).
      {
        Bucket: this.bucket,
        Prefix: prefix,
        MaxKeys: options.pageSize,
        RequestPayer: this.requestPayer,
        EncodingType: 'url',
        StartAfter: options.startAfter,
        Delimiter: options.delimiter,
      },
    );
    let previous: string | undefined;
    // Every token this listing was handed (small strings, one per page): a token handed out again
    // means pages that go round in circles, however many of them there are.
    const tokens = new Set<string>(options.startToken === undefined ? [] : [options.startToken]);
    let pageNumber = 0;
    for await (const page of pages) {
      pageNumber++;
      // Stores that ignore EncodingType answer raw keys and say nothing: those are not decoded.
      const encoded = page.EncodingType === 'url';
      const objects: StoredObject[] = (page.Contents ?? []).map((o) => ({
        key: encoded ? decodeS3UrlEncodedKey(o.Key!) : o.Key!,
        size: o.Size ?? 0,
        etag: o.ETag?.replaceAll('"', ''),
        lastModified: o.LastModified,
      }));
      // A store that answers the same page again would keep the listing going forever.
      const span = objects.length > 0 ? JSON.stringify([objects[0]!.key, objects.at(-1)!.key]) : undefined;
      if (span !== undefined && span === previous) {
        throw new RemoteError(`ListObjectsV2 s3://${this.bucket}/${prefix}: the store answered the same page twice (keys ${span}); the listing does not advance`);
      }
      previous = span;
      const next = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (next !== undefined && tokens.has(next)) {
        throw new RemoteError(`ListObjectsV2 s3://${this.bucket}/${prefix}: the store handed out a continuation token it had handed out before (page ${pageNumber}); the listing goes round in circles`);
      }
      if (next !== undefined) tokens.add(next);
      const commonPrefixes = options.delimiter === undefined ? undefined : (page.CommonPrefixes ?? []).map((p) => (encoded ? decodeS3UrlEncodedKey(p.Prefix!) : p.Prefix!));
      yield { objects, nextToken: next, ...(commonPrefixes ? { commonPrefixes } : {}) };
    }
  }

  presignGet(key: string, { expiresInSeconds }: PresignOptions): Promise<string> {
    return this.presigner.presignGetObject(this.bucket, key, expiresInSeconds, { requestPayer: this.requestPayer });
  }

  /**
   * Writes `body` into `key` and confirms the store holds exactly those bytes, from the write's own
   * answer wherever it proves them (see s3-content-check.ts): against AWS S3 (the client computes
   * checksums) the upload carries a CRC32 that S3 checks and answers with (a full-object one for
   * multipart uploads); an S3-compatible store (checksums only when required, as many reject them)
   * answers an ETag that is the MD5 of what it stored. Only when the answer proves nothing (no
   * comparable ETag, or one that differs: it may not be an MD5) is the store asked again: a HEAD
   * for the checksum (AWS S3 clients), then a read-back comparing the CRC32 and length; with
   * `readBack`, always a read-back. A content mismatch removes the object and fails for good.
   */
  async write(key: string, body: WriteBody, options: WriteOptions = {}): Promise<{ bytes: number }> {
    const withChecksum = (await this.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
    const digest = new ContentDigest(withChecksum || this.readBack ? undefined : { partBytes: PART_SIZE });
    const inMemory = typeof body === 'string' ? Buffer.from(body) : body;
    const sent =
      Buffer.isBuffer(inMemory) && inMemory.length <= PART_SIZE
        ? await this.putOnce(key, inMemory, digest, withChecksum, options)
        : await this.upload(key, inMemory, digest, withChecksum, options);
    const location = `s3://${this.bucket}/${key}`;
    let verdict: ContentVerdict = this.readBack ? { confirmed: undefined } : judgeStoredContent(digest, sent.answer);
    // Proven by the answer: the store holds the bytes sent, as many as were sent.
    let storedBytes: number | undefined = sent.bytes;
    if (verdict.confirmed === undefined && withChecksum && !this.readBack) {
      // AWS S3 answers uploads with their checksum; a store that did not may still report it here.
      const stored = await this.storedFacts(key);
      storedBytes = stored?.ContentLength;
      verdict = judgeStoredContent(digest, stored ?? {});
    }
    if (verdict.confirmed === undefined) {
      const back = await this.readBackDigest(key);
      storedBytes = back?.bytes;
      const readBackCrc = back?.crc32 ?? 'nothing';
      const detail = `${verdict.etag ? `${verdict.etag}; ` : ''}CRC32 ${digest.crc32} sent, ${readBackCrc} read back`;
      verdict = back !== undefined && back.bytes === sent.bytes && readBackCrc === digest.crc32 ? { confirmed: true, by: 'CRC32' } : { confirmed: false, detail };
    }
    const bytes = verifyStoredSize(location, storedBytes, sent.bytes, options.expectedBytes);
    if (!verdict.confirmed) {
      await this.delete(key).catch(() => undefined); // best effort: the failure below is what matters
      throw new RemoteError(`PutObject ${location}: the stored object differs from the bytes sent (${verdict.detail}); the object was removed`);
    }
    return { bytes };
  }

  /** One PutObject of bytes in memory (one part at most): no stream, no multipart machinery. */
  private async putOnce(key: string, bytes: Buffer, digest: ContentDigest, withChecksum: boolean, options: WriteOptions): Promise<SentObject> {
    digest.update(bytes);
    const answer = await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
        ContentType: options.contentType,
        RequestPayer: this.requestPayer,
        // S3 checks the bytes it receives against this CRC32 (BadDigest otherwise) and answers with it.
        ...(withChecksum ? { ChecksumAlgorithm: 'CRC32' as const, ChecksumCRC32: digest.crc32 } : {}),
      }),
    );
    return { bytes: bytes.length, answer };
  }

  /** Streams a body (or bytes larger than a part) in, multipart when it outgrows one part. */
  private async upload(key: string, body: Readable | Buffer, digest: ContentDigest, withChecksum: boolean, options: WriteOptions): Promise<SentObject> {
    const counted = countedStream(body, digest);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: counted,
        ContentType: options.contentType,
        RequestPayer: this.requestPayer,
        ...(withChecksum ? { ChecksumAlgorithm: 'CRC32' as const, ChecksumType: 'FULL_OBJECT' as const } : {}),
      },
      partSize: PART_SIZE,
      queueSize: 4,
    });
    // The PutObject answer, or CompleteMultipartUpload's (the multipart ETag and full-object CRC32).
    const answer = await upload.done();
    return { bytes: counted.bytes, answer };
  }

  /** Size, ETag and checksum of a stored object (HeadObject with checksum mode); undefined when it is missing. */
  private async storedFacts(key: string) {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key, RequestPayer: this.requestPayer, ChecksumMode: 'ENABLED' }));
    } catch (err) {
      if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return undefined;
      throw err;
    }
  }

  /** The CRC32 and length of the stored object, read back whole; undefined when it is missing. */
  private async readBackDigest(key: string): Promise<{ crc32: string; bytes: number } | undefined> {
    const digest = new ContentDigest();
    let bytes = 0;
    try {
      for await (const chunk of await this.read(key)) {
        digest.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
    return { crc32: digest.crc32, bytes };
  }

  async read(key: string): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, RequestPayer: this.requestPayer }));
    return res.Body as Readable;
  }

  async sizeOf(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key, RequestPayer: this.requestPayer }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, RequestPayer: this.requestPayer }));
  }

  async credentialsExpiry(): Promise<Date | undefined> {
    const credentials = await this.client.config.credentials();
    return credentials.expiration;
  }
}
