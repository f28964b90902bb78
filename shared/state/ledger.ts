import type { StoredObject } from '../storage/port';

/**
 * The object ledger: which (bucket, key, ETag) a run already submitted, so scheduled runs and
 * object-created triggers submit each version of an object once.
 */
export interface ObjectLedger {
  /** Keys among `objects` whose current ETag was submitted before. */
  submitted(bucket: string, objects: StoredObject[]): Promise<ReadonlySet<string>>;
  record(bucket: string, objects: StoredObject[], runId: string): Promise<void>;
}

/** Ledger entry id: an object version; objects without an ETag are keyed by size and mtime. */
export function ledgerVersion(object: StoredObject): string {
  return object.etag ?? `${object.size}@${object.lastModified?.toISOString() ?? ''}`;
}
