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

  constructor(store: ObjectStore, readonly key: string) {
    this.upload = store.write(key, this.stream, { contentType: 'application/x-ndjson' });
    // Keep a failed upload from becoming an unhandled rejection before close() awaits it.
    this.upload.catch(() => undefined);
  }

  async add(entry: { name: string; url: string }): Promise<void> {
    this.lines++;
    if (!this.stream.write(JSON.stringify(entry) + '\n')) {
      await Promise.race([once(this.stream, 'drain'), this.upload.then(() => Promise.reject(new Error('upload ended early')))]);
    }
  }

  async close(): Promise<{ bytes: number }> {
    this.stream.end();
    return this.upload;
  }
}
