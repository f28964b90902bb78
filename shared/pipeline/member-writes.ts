import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { mapLimit } from '../concurrency';
import { errorMessage } from '../errors';
import type { ObjectStore } from '../storage/port';

/** Writes of one copy in flight at once. */
export const WRITES_IN_FLIGHT = 16;
/**
 * Removals in flight when a copy fails: 100,000 members (the default cap) go in about a minute at
 * S3's usual ~30 ms a request, inside the two minutes a function keeps back to record the failure.
 */
export const REMOVALS_IN_FLIGHT = 64;
/** Members up to this size are read into memory so their writes can overlap; larger ones stream. */
export const BUFFERED_MEMBER_BYTES = 1024 * 1024;

/**
 * The objects one result file becomes, written with bounded concurrency (at most
 * WRITES_IN_FLIGHT + 1 members of up to BUFFERED_MEMBER_BYTES held in memory: those being written
 * and the next one, read while it waits for a slot) and removed again, every one of them, if the
 * file fails: a file's objects are all in the bucket or none is.
 */
export class MemberWrites {
  private readonly started: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  files = 0;
  bytes = 0;

  constructor(
    private readonly dest: ObjectStore,
    /** Objects and bytes stored (negative when removed again). */
    private readonly onStored: (files: number, bytes: number) => void,
  ) {}

  /** Starts writing `key`; resolves once the body has been read (small members) or written (large ones). */
  async add(key: string, body: Readable, size: number | undefined): Promise<void> {
    this.throwIfFailed();
    this.started.push(key);
    if (size === undefined || size > BUFFERED_MEMBER_BYTES) {
      // The stream cannot be read past this member until it is written.
      await this.write(key, body, size);
      this.throwIfFailed();
      return;
    }
    const bytes = await buffer(body);
    while (this.inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const writing: Promise<void> = this.write(key, bytes, size).finally(() => this.inFlight.delete(writing));
    this.inFlight.add(writing);
  }

  /** Waits for every write; rejects with the first failure. */
  async finish(): Promise<{ files: number; bytes: number }> {
    await Promise.all(this.inFlight);
    this.throwIfFailed();
    return { files: this.files, bytes: this.bytes };
  }

  /**
   * Waits for the writes in flight, then removes every object this copy started (an object that
   * was never stored is removed just as well). Resolves with a note on what could not be removed.
   */
  async rollback(): Promise<string | undefined> {
    await Promise.all(this.inFlight);
    const keys = this.started.splice(0);
    const left: string[] = [];
    let lastError = '';
    await mapLimit(keys, REMOVALS_IN_FLIGHT, (key) =>
      this.dest.delete(key).catch((err) => {
        left.push(key);
        lastError = errorMessage(err);
      }),
    );
    this.onStored(-this.files, -this.bytes);
    this.files = 0;
    this.bytes = 0;
    return left.length > 0 ? `${left.length} of its ${keys.length} object(s) could not be removed (${lastError})` : undefined;
  }

  /** Writes one object; a failure is kept (never thrown here) so that no write is left unawaited. */
  private async write(key: string, body: Readable | Buffer, size: number | undefined): Promise<void> {
    try {
      const stored = await this.dest.write(key, body, { expectedBytes: size });
      this.files++;
      this.bytes += stored.bytes;
      this.onStored(1, stored.bytes);
    } catch (err) {
      this.failure ??= err;
      if (!Buffer.isBuffer(body)) body.destroy();
    }
  }

  private throwIfFailed() {
    if (this.failure !== undefined) throw this.failure;
  }
}
