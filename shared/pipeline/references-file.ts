import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../storage/port';

/**
 * One JSONL references file, streamed into the bucket while lines are written: the file is never
 * held in memory. Writes wait for the upload to take the data (back-pressure).
 */
export class ReferencesFile {
  lines = 0;
  private readonly stream = new PassThrough();
  private readonly upload: Promise<{ bytes: number }>;
  /** Rejects once the upload has ended, so a writer waiting for 'drain' cannot wait forever. */
  private readonly ended: Promise<never>;

  constructor(store: ObjectStore, readonly key: string) {
    this.upload = store.write(key, this.stream, { contentType: 'application/x-ndjson' });
    // Keep a failed upload from becoming an unhandled rejection before close() awaits it.
    this.upload.catch(() => undefined);
    // One promise for the life of the file (not one per wait), and never an unhandled rejection.
    this.ended = this.upload.then(() => Promise.reject(new Error('upload ended early')));
    this.ended.catch(() => undefined);
  }

  async add(entry: { name: string; url: string }): Promise<void> {
    await this.addAll([entry]);
  }

  /** Writes the lines as one chunk (a listing page at a time): fewer, larger writes. */
  async addAll(entries: ReadonlyArray<{ name: string; url: string }>): Promise<void> {
    if (entries.length === 0) return;
    let text = '';
    for (const { name, url } of entries) text += JSON.stringify({ name, url }) + '\n';
    this.lines += entries.length;
    if (!this.stream.write(text)) await Promise.race([once(this.stream, 'drain'), this.ended]);
  }

  async close(): Promise<{ bytes: number }> {
    this.stream.end();
    return this.upload;
  }
}
