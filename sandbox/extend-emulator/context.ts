import type { TaskScope } from '../emulator-kit/task-scope';
import type { FaultInjector } from './faults';
import type { Limiter } from './limiter';
import type { Store } from './store';
import type { ResolvedOptions } from './types';
import type { ViewSettings } from './views';
import type { WebhookSender } from './webhooks';

/** Everything a request handler or background task of one emulator instance needs. */
export interface EmulatorContext {
  options: ResolvedOptions;
  store: Store;
  scope: TaskScope;
  faults: FaultInjector;
  webhooks: WebhookSender;
  /** Bounds how many runs are processed (file fetched + modelled) at once. */
  runSlots: Limiter;
  views: ViewSettings;
  /** Number of input URLs downloaded successfully. */
  fetched: { count: number };
  /** Unexpected errors of background work (never contains the api key). */
  reportError(err: unknown): void;
}
