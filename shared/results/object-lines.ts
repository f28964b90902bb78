import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../storage/port';

/**
 * A text object written line by line as a stream (the store's streamed upload), never held whole.
 * `close` resolves once the store confirmed the object.
 */
export class ObjectLines {
  private readonly stream = new PassThrough();
  private readonly upload: Promise<unknown>;
  lines = 0;

  constructor(dest: ObjectStore, readonly key: string, contentType: string) {
    this.upload = dest.write(key, this.stream, { contentType });
    this.upload.catch(() => undefined);
  }

  async line(text: string): Promise<void> {
    this.lines++;
    if (this.stream.write(text + '\n')) return;
    // A failed upload stops reading: its error ends the wait instead of a drain that never comes.
    await Promise.race([once(this.stream, 'drain'), this.upload]);
  }

  async close(): Promise<void> {
    this.stream.end();
    await this.upload;
  }

  /** Abandons the object (the upload fails and writes nothing). */
  abort(err: Error): void {
    this.stream.destroy(err);
  }
}
