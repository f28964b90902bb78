import type { Logger } from '../log';
import type { Metrics } from '../metrics/port';
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
  /** What the run counts (runs, objects, result files, phase durations); unset, nothing is published (the CLI). */
  metrics?: Metrics;
  progress: ProgressListener;
  /** When set, objects an earlier run submitted (same key and ETag) are skipped and new ones recorded. */
  ledger?: ObjectLedger;
  /** Listing page size (S3 default 1000). */
  pageSize?: number;
  /** Partitions of the source listed at once (see pipeline/partition); 1 (default) lists it as one listing. */
  listConcurrency?: number;
  /** The bucket of the S3 Inventory report a run reads instead of listing (runs whose spec names one). */
  inventory?: ObjectStore;
  /** Lines per references file (defaults to the target's limit). */
  chunkSize?: number;
  /** Caps per result file at export; unset ones keep their defaults. */
  exportLimits?: Partial<ExportLimits>;
}
