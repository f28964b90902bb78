import type { BridgeConfig } from '../config/bridge-config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/port';
import type { QueueSender } from '../runtime/queue';
import type { PendingObjects } from '../state/debounce';
import type { StateStore } from '../state/port';
import type { RunSpec } from '../state/run-record';
import type { BucketLocation } from '../location';
import type { ObjectStore } from '../storage/port';
import type { BridgeDeps } from './deps';

/** What the deployed use cases need beyond one run's ports: config, queues and the debounce store. */
export interface ServerlessPorts {
  config: BridgeConfig;
  log: Logger;
  metrics: Metrics;
  state: StateStore;
  pending: PendingObjects;
  queues: { submissions: QueueSender; startJob: QueueSender; export: QueueSender; partitions: QueueSender };
  /** Ports for runs of the given spec (its source and destination stores, its target). */
  depsFor(spec: Pick<RunSpec, 'source' | 'dest' | 'target' | 'inventory'>): Promise<BridgeDeps>;
  /** A bucket store alone (e.g. to write a run's summary without reaching its target). */
  storeFor(location: BucketLocation): ObjectStore;
}
