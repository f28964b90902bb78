import type { StoredObject } from '../storage/port';

export interface PendingState {
  /** Objects waiting in the source's batch after this call. */
  pending: number;
  /** Time of the latest object-created event that added something new. */
  lastEventAt: Date;
}

/**
 * Object-created events waiting to become one run per source ("debounced" batches): a batch is
 * flushed after a quiet period or when it is big enough. Adds are idempotent per object version
 * (key + ETag), and a claim hands each pending object to exactly one caller.
 */
export interface PendingObjects {
  add(sourceId: string, objects: StoredObject[], now: Date): Promise<PendingState>;
  state(sourceId: string): Promise<PendingState | undefined>;
  /** Removes and returns up to `max` pending objects; concurrent claims never share an object. */
  claim(sourceId: string, max: number): Promise<StoredObject[]>;
}
