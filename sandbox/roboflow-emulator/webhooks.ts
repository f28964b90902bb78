/**
 * Webhook delivery: POSTs JSON events with `Authorization: Bearer rf_<workspaceId>`, retries failed
 * deliveries (same event_id, increasing delivery_attempt) and applies the delivery faults.
 */
import { postWebhook } from '../emulator-kit/post-webhook';
import type { TaskScope } from '../emulator-kit/task-scope';
import type { FaultInjector } from './faults';
import type { WebhookDelivery } from './types';

const MAX_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 50;

/** An event payload before delivery_attempt is stamped on it. */
export type WebhookEvent = Record<string, unknown> & { event_id: string };

export class WebhookSender {
  constructor(
    private readonly scope: TaskScope,
    private readonly faults: FaultInjector,
    private readonly workspaceId: string,
    private readonly deliveries: WebhookDelivery[],
  ) {}

  /** Delivers the events one after another in the background (order shuffled if that fault is on). */
  sendAll(url: string, events: WebhookEvent[]): void {
    if (events.length === 0) return;
    this.scope.run(async () => {
      const ordered = this.faults.current.shuffleWebhooks ? shuffled(events) : events;
      for (const event of ordered) await this.deliverEvent(url, event);
    });
  }

  private async deliverEvent(url: string, event: WebhookEvent): Promise<void> {
    const { webhookDelayMs = 0, duplicateDeliveries = false } = this.faults.current;
    if (webhookDelayMs > 0) await this.scope.sleep(Math.random() * webhookDelayMs);
    const lastAttempt = await this.deliverWithRetries(url, event, 1);
    if (duplicateDeliveries) await this.deliverWithRetries(url, event, lastAttempt + 1);
  }

  /** Returns the number of the last attempt made. */
  private async deliverWithRetries(url: string, event: WebhookEvent, firstAttempt: number): Promise<number> {
    let attempt = firstAttempt;
    for (let tries = 1; ; tries++, attempt++) {
      const status = await this.post(url, { ...event, delivery_attempt: attempt });
      if ((typeof status === 'number' && status >= 200 && status < 300) || tries >= MAX_ATTEMPTS) return attempt;
      await this.scope.sleep(RETRY_BACKOFF_MS * tries);
    }
  }

  private async post(url: string, body: Record<string, unknown>): Promise<number | 'error'> {
    const headers = { 'content-type': 'application/json', authorization: `Bearer rf_${this.workspaceId}` };
    const status = await postWebhook(this.scope, url, headers, JSON.stringify(body));
    if (status === 'error' && this.scope.closed) return status;
    this.deliveries.push({ url, body, status });
    return status;
  }
}

/**
 * Random permutation that is never the original order (when there are at least two events),
 * so a test that turns the fault on always sees out-of-order delivery.
 */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  if (copy.length > 1 && copy.every((item, i) => item === items[i])) copy.push(copy.shift()!);
  return copy;
}
