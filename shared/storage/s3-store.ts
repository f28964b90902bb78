import {
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { RemoteError } from '../errors';
import { countedStream } from './count-bytes';
import type { ListOptions, ListPage, ObjectStore, PresignOptions, StoredObject, WriteBody, WriteOptions } from './port';

/** Upload part size: big enough for few requests, small enough to keep memory flat (4 parts in flight). */
const PART_SIZE = 8 * 1024 * 1024;

export class S3Store implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListPage> {
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: options.pageSize, startingToken: options.startToken },
      { Bucket: this.bucket, Prefix: prefix, MaxKeys: options.pageSize },
    );
    for await (const page of pages) {
      const objects: StoredObject[] = (page.Contents ?? []).map((o) => ({
        key: o.Key!,
        size: o.Size ?? 0,
        etag: o.ETag?.replaceAll('"', ''),
        lastModified: o.LastModified,
      }));
      yield { objects, nextToken: page.IsTruncated ? page.NextContinuationToken : undefined };
    }
  }

  presignGet(key: string, { expiresInSeconds }: PresignOptions): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }

  async write(key: string, body: WriteBody, options: WriteOptions = {}): Promise<{ bytes: number }> {
    const counted = countedStream(body);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: options.contentType },
      partSize: PART_SIZE,
      queueSize: 4,
    });
    await upload.done();
    const stored = await this.sizeOf(key);
    if (stored !== counted.bytes || (options.expectedBytes !== undefined && stored !== options.expectedBytes)) {
      throw new RemoteError(
        `s3://${this.bucket}/${key}: stored ${stored} bytes, sent ${counted.bytes}` +
          (options.expectedBytes === undefined ? '' : `, expected ${options.expectedBytes}`),
      );
    }
    return { bytes: stored };
  }

  async read(key: string): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return res.Body as Readable;
  }

  async sizeOf(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return undefined;
      throw err;
    }
  }

  async credentialsExpiry(): Promise<Date | undefined> {
    const credentials = await this.client.config.credentials();
    return credentials.expiration;
  }
}
