/**
 * Webhook delivery: POSTs `{ eventId, eventType, payload }` envelopes signed like Extend does, retries
 * failed attempts (same body and eventId, fresh timestamp and signature) and applies the delivery faults.
 */
import { postWebhook } from '../emulator-kit/post-webhook';
import type { TaskScope } from '../emulator-kit/task-scope';
import { newId } from './ids';
import type { FaultInjector } from './faults';
import type { Limiter } from './limiter';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './signature';
import type { ExtendWebhookDelivery } from './types';

const MAX_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 50;

export interface WebhookTarget {
  url: string | undefined;
  signingSecret: string;
}

export class WebhookSender {
  constructor(
    private readonly scope: TaskScope,
    private readonly faults: FaultInjector,
    private readonly limiter: Limiter,
    private readonly target: WebhookTarget,
    private readonly deliveries: ExtendWebhookDelivery[],
    private readonly reportError: (err: unknown) => void,
  ) {}

  /** Queues one event; the payload is serialised now, so later state changes do not leak into it. */
  send(eventType: string, payload: unknown): void {
    const url = this.target.url;
    if (!url) return;
    const rawBody = JSON.stringify({ eventId: newId('evt'), eventType, payload });
    this.scope.run(async () => {
      const { webhookDelayMs = 0, duplicateDeliveries = false } = this.faults.current;
      if (webhookDelayMs > 0) await this.scope.sleep(Math.random() * webhookDelayMs);
      await this.deliverWithRetries(url, rawBody);
      if (duplicateDeliveries) await this.deliverWithRetries(url, rawBody);
    }, this.reportError);
  }

  private async deliverWithRetries(url: string, rawBody: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const status = await this.limiter.use(() => this.post(url, rawBody));
      if ((typeof status === 'number' && status >= 200 && status < 300) || attempt >= MAX_ATTEMPTS) return;
      await this.scope.sleep(RETRY_BACKOFF_MS * attempt);
    }
  }

  private async post(url: string, rawBody: string): Promise<number | 'error'> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(this.target.signingSecret, timestamp, rawBody),
    };
    const status = await postWebhook(this.scope, url, headers, rawBody);
    if (status === 'error' && this.scope.closed) return status;
    this.deliveries.push({ url, headers, rawBody, body: JSON.parse(rawBody), status });
    return status;
  }
}
