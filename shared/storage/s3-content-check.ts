import type { ContentDigest } from './content-digest';

/** What the store says about a stored object: the answer to its upload, or a HeadObject (with `ChecksumMode: ENABLED`). */
export interface StoredObjectFacts {
  ChecksumCRC32?: string;
  ChecksumType?: string;
  ETag?: string;
}

export type ContentVerdict =
  | { confirmed: true; by: 'CRC32' | 'ETag' }
  | { confirmed: false; detail: string }
  /** Nothing decisive (no comparable ETag, or one that differs): read the object back. */
  | { confirmed: undefined; etag?: string };

/**
 * Whether the store confirms it holds the bytes sent:
 * 1. a full-object CRC32 (S3 and stores with checksum support; a composite `…-N` CRC of part
 *    CRCs is skipped) is compared with the CRC32 of the bytes sent;
 * 2. else an ETag of an MD5's shape (`hex`, or `hex-N` for N parts) is compared with the MD5s of
 *    the bytes sent. A match confirms; a difference does not decide, because not every ETag of that
 *    shape is an MD5 (encrypted objects: SSE-KMS and SSE-C on S3, MinIO with encryption);
 * 3. else undecided: the caller reads the object back.
 */
export function judgeStoredContent(digest: ContentDigest, stored: StoredObjectFacts): ContentVerdict {
  const crc = stored.ChecksumCRC32;
  if (crc && !crc.includes('-') && stored.ChecksumType !== 'COMPOSITE') {
    return crc === digest.crc32 ? { confirmed: true, by: 'CRC32' } : { confirmed: false, detail: `CRC32 ${digest.crc32} sent, ${crc} stored` };
  }
  const etag = stored.ETag?.replaceAll('"', '').toLowerCase();
  const expected = digest.md5Etags();
  if (!etag || !expected || !/^[0-9a-f]{32}(-\d+)?$/.test(etag)) return { confirmed: undefined };
  if (expected.includes(etag)) return { confirmed: true, by: 'ETag' };
  const like = expected.find((e) => e.includes('-') === etag.includes('-')) ?? expected[0];
  return { confirmed: undefined, etag: `ETag ${like} expected, ${etag} stored` };
}
