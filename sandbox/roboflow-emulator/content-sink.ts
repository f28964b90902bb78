/** Takes a file's bytes as they stream in: counts and hashes them, and keeps them while the file is small. */
import { createHash } from 'node:crypto';
import type { StoredContent } from './store';

// Larger files are kept as size + hash only and served back as a placeholder of the same size.
export const KEEP_BYTES_UP_TO = 64 * 1024;

export class ContentSink {
  size = 0;
  private readonly hash = createHash('sha256');
  private kept: Buffer[] = [];

  write(chunk: Buffer): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    if (this.size <= KEEP_BYTES_UP_TO) this.kept.push(chunk);
    else this.kept = [];
  }

  finish(mimeType: string): { content: StoredContent; size: number; sha256: string } {
    const content: StoredContent =
      this.size <= KEEP_BYTES_UP_TO ? { kind: 'bytes', data: Buffer.concat(this.kept), mimeType } : { kind: 'placeholder', size: this.size, mimeType };
    return { content, size: this.size, sha256: this.hash.digest('hex') };
  }
}
