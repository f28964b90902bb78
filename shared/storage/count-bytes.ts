import { PassThrough, Readable } from 'node:stream';

/** A pass-through that counts the bytes flowing through it. */
export class ByteCounter extends PassThrough {
  bytes = 0;
  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null, data?: unknown) => void) {
    this.bytes += chunk.length;
    super._transform(chunk, encoding, callback);
  }
}

/** Wraps any body in a counting stream; buffers and strings become single-chunk streams. */
export function countedStream(body: Readable | Buffer | string): ByteCounter {
  const counter = new ByteCounter();
  const source = body instanceof Readable ? body : Readable.from([typeof body === 'string' ? Buffer.from(body) : body]);
  source.on('error', (err) => counter.destroy(err));
  source.pipe(counter);
  return counter;
}
