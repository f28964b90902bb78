import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
}

export interface ListOptions {
  /** Objects per listing request; small values exercise pagination in tests. */
  pageSize?: number;
  /** Resume a listing where an earlier page's `nextToken` left off. */
  startToken?: string;
  /**
   * Only keys after this one, in the store's order (UTF-8 bytes for S3 and GCS); a listing
   * resumed by `startToken` keeps the bound it started with.
   */
  startAfter?: string;
  /** Keys with this after the prefix are rolled up into the page's `commonPrefixes` (one folder level). */
  delimiter?: string;
}

export interface ListPage {
  objects: StoredObject[];
  /** Where the listing continues after this page; undefined after the last page. */
  nextToken?: string;
  /** With a `delimiter`: the prefixes (each ending in it) standing for the keys rolled up. */
  commonPrefixes?: string[];
}

export interface PresignOptions {
  expiresInSeconds: number;
}

export type WriteBody = Readable | Buffer | string;

export interface WriteOptions {
  contentType?: string;
  /** Byte count the caller expects; the write fails if the stored object differs. */
  expectedBytes?: number;
}

/**
 * The storage port: one bucket of one store. Adapters (S3, S3-compatible, GCS) implement it;
 * the pipeline never touches an SDK directly.
 */
export interface ObjectStore {
  readonly bucket: string;
  /** Streams the objects under `prefix`, page by page; a listing error rejects the iteration. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListPage>;
  /** A GET URL valid for the given lifetime. The URL is a credential: never log it. */
  presignGet(key: string, options: PresignOptions): Promise<string>;
  /** Streams `body` into `key` and returns the number of bytes stored. */
  write(key: string, body: WriteBody, options?: WriteOptions): Promise<{ bytes: number }>;
  read(key: string): Promise<Readable>;
  /** Size of the stored object, or undefined when it does not exist. */
  sizeOf(key: string): Promise<number | undefined>;
  /** Removes `key`; removing an object that does not exist succeeds. */
  delete(key: string): Promise<void>;
  /** When the signing credentials expire (temporary credentials), else undefined. */
  credentialsExpiry(): Promise<Date | undefined>;
}
