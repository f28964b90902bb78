import { PassThrough, Readable } from 'node:stream';

/** Anything that looks at each chunk as it passes (a digest). */
export interface ChunkObserver {
  update(chunk: Buffer): void;
}

/** A pass-through that counts the bytes flowing through it (and shows each chunk to an observer). */
export class ByteCounter extends PassThrough {
  bytes = 0;

  constructor(private readonly observer?: ChunkObserver) {
    super();
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null, data?: unknown) => void) {
    this.bytes += chunk.length;
    this.observer?.update(chunk);
    super._transform(chunk, encoding, callback);
  }
}

/** Wraps any body in a counting stream; buffers and strings become single-chunk streams. */
export function countedStream(body: Readable | Buffer | string, observer?: ChunkObserver): ByteCounter {
  const counter = new ByteCounter(observer);
  const source = body instanceof Readable ? body : Readable.from([typeof body === 'string' ? Buffer.from(body) : body]);
  source.on('error', (err) => counter.destroy(err));
  source.pipe(counter);
  return counter;
}
