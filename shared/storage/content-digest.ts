import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Digests of a write's bytes, computed as they stream, for the store to confirm: the CRC32 of the
 * whole object (S3's full-object checksum; zlib's native CRC32 is the same polynomial) and, when
 * asked, the MD5 of every `partBytes`-long part, which is what S3-compatible stores put in the
 * ETag: the MD5 of the object for a single-request upload, `MD5(part MD5s)-N` for N parts.
 */
export class ContentDigest {
  private crc = 0;
  private part?: Hash;
  private partFill = 0;
  private readonly partMd5s: Buffer[] = [];
  private ended = false;

  constructor(private readonly md5Parts?: { partBytes: number }) {}

  update(chunk: Buffer): void {
    this.crc = crc32(chunk, this.crc);
    if (!this.md5Parts) return;
    const { partBytes } = this.md5Parts;
    for (let at = 0; at < chunk.length; ) {
      this.part ??= createHash('md5');
      const take = Math.min(partBytes - this.partFill, chunk.length - at);
      this.part.update(chunk.subarray(at, at + take));
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

  /** MD5 of each part (an empty object has one empty part); undefined when MD5s were not asked for. */
  md5s(): Buffer[] | undefined {
    if (!this.md5Parts) return undefined;
    if (!this.ended) {
      this.ended = true;
      if (this.part || this.partMd5s.length === 0) this.closePart();
    }
    return this.partMd5s;
  }

  private closePart(): void {
    this.partMd5s.push((this.part ?? createHash('md5')).digest());
    this.part = undefined;
    this.partFill = 0;
  }
}

/** The ETag an S3-compatible store gives an upload of these parts (without quotes). */
export function expectedEtag(partMd5s: Buffer[]): string {
  if (partMd5s.length === 1) return partMd5s[0]!.toString('hex');
  return `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}`;
}
