import type { TaskScope } from '../emulator-kit/task-scope';
import type { FaultInjector } from './faults';
import type { ResultSigner } from './presign';
import type { Store } from './store';
import type { ResolvedOptions } from './types';
import type { UploadStats } from './uploads';
import type { WebhookSender } from './webhooks';

/** Everything a request handler or background task of one emulator instance needs. */
export interface EmulatorContext {
  options: ResolvedOptions;
  store: Store;
  scope: TaskScope;
  faults: FaultInjector;
  webhooks: WebhookSender;
  signer: ResultSigner;
  uploads: UploadStats;
  /** Unexpected errors of request handling or background work (never contains the api key). */
  reportError(err: unknown): void;
}
