import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { mapLimit } from '../concurrency';
import { errorMessage } from '../errors';
import type { ObjectStore } from '../storage/port';
import { PROCESS_WRITE_BUDGET, type WriteBudget } from './write-budget';

/** Writes of one copy in flight at once (small members; large ones are written one at a time). */
export const WRITES_IN_FLIGHT = 32;
/**
 * Removals in flight when a copy fails: 100,000 members (the default cap) go in about a minute at
 * S3's usual ~30 ms a request, inside the two minutes a function keeps back to record the failure.
 */
export const REMOVALS_IN_FLIGHT = 64;
/**
 * Members up to this size are read into memory (from the process's buffered-bytes budget, see
 * write-budget) so their writes overlap while the archive is read on; larger ones, and bodies of
 * unknown size, are streamed straight into the store (multipart), one stream slot each.
 */
export const BUFFERED_MEMBER_BYTES = 1024 * 1024;

/**
 * The objects one result file becomes, written with bounded concurrency (at most WRITES_IN_FLIGHT
 * small members in flight per copy, their bytes taken from the process's budget before they are
 * read) and removed again, every one of them, if the file fails: a file's objects are all in the
 * bucket or none is. Members are numbered in the order they are added; `confirmed` is how many of
 * the first ones are all stored, which is where a later invocation can go on from.
 */
export class MemberWrites {
  private readonly started: string[] = [];
  private readonly stored: number[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Set while `add` waits for a write in flight to end. */
  private slotFreed?: () => void;
  private failure: unknown;
  private confirmedBytes = 0;
  /** The first `confirmed` members are all stored. */
  confirmed = 0;
  files = 0;
  bytes = 0;

  constructor(
    private readonly dest: ObjectStore,
    /** Objects and bytes stored (negative when removed again). */
    private readonly onStored: (files: number, bytes: number) => void,
    private readonly budget: WriteBudget = PROCESS_WRITE_BUDGET,
  ) {}

  /**
   * Starts writing `key` (bytes already read, or a stream); resolves once the body has been read
   * (small members) or written (large ones). Called one member at a time.
   */
  async add(key: string, body: Readable | Buffer, size: number | undefined): Promise<void> {
    this.throwIfFailed();
    const index = this.started.push(key) - 1;
    if (!Buffer.isBuffer(body) && (size === undefined || size > BUFFERED_MEMBER_BYTES)) {
      // The stream cannot be read past this member until it is written.
      await this.budget.streams.take(1);
      try {
        await this.write(index, key, body, size);
      } finally {
        this.budget.streams.give(1);
      }
      this.throwIfFailed();
      return;
    }
    while (this.inFlight.size >= WRITES_IN_FLIGHT) await new Promise<void>((freed) => (this.slotFreed = freed));
    this.throwIfFailed();
    const held = Buffer.isBuffer(body) ? body.length : size!;
    await this.budget.bufferedBytes.take(held);
    let bytes: Buffer;
    try {
      bytes = Buffer.isBuffer(body) ? body : await buffer(body);
    } catch (err) {
      this.budget.bufferedBytes.give(held);
      throw err;
    }
    const writing: Promise<void> = this.write(index, key, bytes, size).finally(() => {
      this.budget.bufferedBytes.give(held);
      this.inFlight.delete(writing);
      this.slotFreed?.();
      this.slotFreed = undefined;
    });
    this.inFlight.add(writing);
  }

  /** Waits for every write; rejects with the first failure. */
  async finish(): Promise<{ files: number; bytes: number }> {
    await Promise.all(this.inFlight);
    this.throwIfFailed();
    return { files: this.files, bytes: this.bytes };
  }

  /**
   * Waits for the writes in flight, keeps the first `confirmed` members and removes every object
   * started after them: what a copy cut short leaves for a later invocation to go on from.
   */
  async keepConfirmed(): Promise<{ members: number; bytes: number; notRemoved?: string }> {
    await Promise.all(this.inFlight);
    const tail = this.started.splice(this.confirmed);
    const tailBytes = this.bytes - this.confirmedBytes;
    const notRemoved = await this.remove(tail);
    this.onStored(-(this.files - this.confirmed), -tailBytes);
    this.files = this.confirmed;
    this.bytes = this.confirmedBytes;
    return { members: this.confirmed, bytes: this.confirmedBytes, notRemoved };
  }

  /**
   * Waits for the writes in flight, then removes every object this copy started (an object that
   * was never stored is removed just as well) and `alsoRemove` (what earlier invocations of the
   * same copy stored). Resolves with a note on what could not be removed.
   */
  async rollback(alsoRemove: readonly string[] = []): Promise<string | undefined> {
    await Promise.all(this.inFlight);
    const keys = [...alsoRemove, ...this.started.splice(0)];
    const notRemoved = await this.remove(keys);
    this.onStored(-this.files, -this.bytes);
    this.files = 0;
    this.bytes = 0;
    this.confirmed = 0;
    this.confirmedBytes = 0;
    return notRemoved;
  }

  private async remove(keys: readonly string[]): Promise<string | undefined> {
    const left: string[] = [];
    let lastError = '';
    await mapLimit(keys, REMOVALS_IN_FLIGHT, (key) =>
      this.dest.delete(key).catch((err) => {
        left.push(key);
        lastError = errorMessage(err);
      }),
    );
    return left.length > 0 ? `${left.length} of its ${keys.length} object(s) could not be removed (${lastError})` : undefined;
  }

  /** Writes one object; a failure is kept (never thrown here) so that no write is left unawaited. */
  private async write(index: number, key: string, body: Readable | Buffer, size: number | undefined): Promise<void> {
    try {
      const stored = await this.dest.write(key, body, { expectedBytes: size });
      this.files++;
      this.bytes += stored.bytes;
      this.onStored(1, stored.bytes);
      this.stored[index] = stored.bytes;
      while (this.stored[this.confirmed] !== undefined) this.confirmedBytes += this.stored[this.confirmed++]!;
    } catch (err) {
      this.failure ??= err;
      if (!Buffer.isBuffer(body)) body.destroy();
    }
  }

  private throwIfFailed() {
    if (this.failure !== undefined) throw this.failure;
  }
}
