import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Digests of a write's bytes, computed as they stream, for the store to confirm: the CRC32 of the
 * whole object (S3's full-object checksum; zlib's native CRC32 is the same polynomial) and, when
 * asked, the MD5s S3-compatible stores put in ETags: the MD5 of the object, and for a multipart
 * upload of `partBytes`-long parts, `MD5(part MD5s)-N`.
 */
export class ContentDigest {
  private crc = 0;
  private readonly whole?: Hash;
  /** MD5 of the current part from the second part on (the first part's is read off `whole` where it ends). */
  private part?: Hash;
  private partFill = 0;
  private readonly partMd5s: Buffer[] = [];
  private etags?: string[];

  constructor(private readonly md5Parts?: { partBytes: number }) {
    if (md5Parts) this.whole = createHash('md5');
  }

  update(chunk: Buffer): void {
    this.crc = crc32(chunk, this.crc);
    if (!this.md5Parts) return;
    const { partBytes } = this.md5Parts;
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(partBytes - this.partFill, chunk.length - at);
      const bytes = chunk.subarray(at, at + take);
      this.whole!.update(bytes);
      // Each byte is hashed once more only from the second part on: most objects are one part.
      if (this.partMd5s.length > 0) (this.part ??= createHash('md5')).update(bytes);
      this.partFill += take;
      at += take;
      if (this.partFill === partBytes) this.closePart();
    }
  }

  /** Base64 of the big-endian CRC32, as S3 writes `x-amz-checksum-crc32`. */
  get crc32(): string {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.crc >>> 0);
    return out.toString('base64');
  }

  /**
   * The ETags (lowercase hex, no quotes) a store that uses MD5s may give these bytes, the usual one
   * first: the object's MD5 for a single-request upload; for N parts `MD5(part MD5s)-N`, or the
   * object's MD5 as some servers give it. Undefined when MD5s were not asked for. Call at the end.
   */
  md5Etags(): string[] | undefined {
    if (!this.md5Parts) return undefined;
    if (!this.etags) {
      // One part (most objects): the object's MD5 is its ETag, no part MD5 needed.
      if (this.partMd5s.length === 0) return (this.etags = [this.whole!.digest('hex')]);
      if (this.partFill > 0) this.closePart();
      const whole = this.whole!.digest('hex');
      const parts = this.partMd5s.length;
      this.etags = parts === 1 ? [whole] : [`${createHash('md5').update(Buffer.concat(this.partMd5s)).digest('hex')}-${parts}`, whole];
    }
    return this.etags;
  }

  private closePart(): void {
    this.partMd5s.push(this.partMd5s.length === 0 ? this.whole!.copy().digest() : this.part!.digest());
    this.part = undefined;
    this.partFill = 0;
  }
}
