import type { Logger } from '../log';
import type { ExportLimits } from '../pipeline/export-limits';
import type { ProgressListener } from '../progress';
import type { ObjectLedger } from '../state/ledger';
import type { StateStore } from '../state/port';
import type { ObjectStore } from '../storage/port';
import type { BatchTarget } from '../targets/port';

/** Everything a run needs, wired once by the entry point (CLI, Lambda handler, test). */
export interface BridgeDeps {
  source: ObjectStore;
  dest: ObjectStore;
  state: StateStore;
  target: BatchTarget;
  log: Logger;
  progress: ProgressListener;
  /** When set, objects an earlier run submitted (same key and ETag) are skipped and new ones recorded. */
  ledger?: ObjectLedger;
  /** Listing page size (S3 default 1000). */
  pageSize?: number;
  /** Partitions of the source listed at once (see pipeline/partition); 1 (default) lists it as one listing. */
  listConcurrency?: number;
  /** Lines per references file (defaults to the target's limit). */
  chunkSize?: number;
  /** Caps per result file at export; unset ones keep their defaults. */
  exportLimits?: Partial<ExportLimits>;
}
