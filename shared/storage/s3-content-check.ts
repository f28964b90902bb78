import { expectedEtag, type ContentDigest } from './content-digest';

/** What a HeadObject (with `ChecksumMode: ENABLED`) says about the stored object. */
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
 * 2. else an MD5 ETag: `hex` for a single-request upload, `hex-N` for N parts, compared with the
 *    MD5s of the parts sent. A match confirms; a difference does not decide, because not every
 *    ETag of that shape is an MD5 (encrypted objects: SSE-KMS and SSE-C on S3, MinIO with
 *    encryption), nor are ETags of other shapes or the MD5 of a whole multipart object that some
 *    servers give;
 * 3. else undecided: the caller reads the object back.
 */
export function judgeStoredContent(digest: ContentDigest, stored: StoredObjectFacts): ContentVerdict {
  const crc = stored.ChecksumCRC32;
  if (crc && !crc.includes('-') && stored.ChecksumType !== 'COMPOSITE') {
    return crc === digest.crc32 ? { confirmed: true, by: 'CRC32' } : { confirmed: false, detail: `CRC32 ${digest.crc32} sent, ${crc} stored` };
  }
  const etag = stored.ETag?.replaceAll('"', '').toLowerCase();
  const md5s = digest.md5s();
  if (etag && md5s) {
    const single = /^[0-9a-f]{32}$/.test(etag);
    const parts = /^[0-9a-f]{32}-(\d+)$/.exec(etag);
    if ((single && md5s.length === 1) || (parts && Number(parts[1]) === md5s.length)) {
      const expected = expectedEtag(md5s);
      return etag === expected ? { confirmed: true, by: 'ETag' } : { confirmed: undefined, etag: `ETag ${expected} expected, ${etag} stored` };
    }
  }
  return { confirmed: undefined };
}
