import type { TaskScope } from '../emulator-kit/task-scope';
import type { UrlSigner } from './downloads';
import type { FaultInjector } from './faults';
import type { Store } from './store';
import type { ResolvedOptions } from './types';
import type { WebhookSender } from './webhooks';

/** Everything a request handler or background task of one emulator instance needs. */
export interface EmulatorContext {
  options: ResolvedOptions;
  store: Store;
  scope: TaskScope;
  faults: FaultInjector;
  webhooks: WebhookSender;
  downloads: UrlSigner;
  /** Signs the PUT URLs of uploads (served under UPLOAD_PREFIX). */
  uploads: UrlSigner;
  /** Ids of jobs actually created, in creation order. */
  jobsStarted: string[];
  /** Unexpected errors of background work (never contains the api key). */
  reportError(err: unknown): void;
}
