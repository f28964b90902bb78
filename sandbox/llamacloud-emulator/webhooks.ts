/**
 * Webhook delivery for batch events. One ordered channel per (batch, webhook configuration): events go
 * out one after another, each retried up to 3 attempts with the same event_id and raw body.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { postWebhook } from '../emulator-kit/post-webhook';
import type { TaskScope } from '../emulator-kit/task-scope';
import type { FaultInjector } from './faults';
import type { WebhookConfig } from './store';
import type { WebhookDelivery } from './types';

const MAX_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 50;
export const WEBHOOK_USER_AGENT = 'llamaindex-webhook-service/1.0';

export interface WebhookEvent {
  event_id: string;
  event_type: string;
  /** Unix time in seconds, with a fraction. */
  timestamp: number;
  data: Record<string, unknown>;
}

export function newEvent(eventType: string, data: Record<string, unknown>): WebhookEvent {
  return { event_id: randomUUID(), event_type: eventType, timestamp: Date.now() / 1000, data };
}

/** The exact bytes sent: `json` → the object; `string` (default) → that JSON, encoded again as a JSON string. */
export function encodeEvent(event: WebhookEvent, format: WebhookConfig['outputFormat']): string {
  const json = JSON.stringify(event);
  return format === 'json' ? json : JSON.stringify(json);
}

export function signBody(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

export class WebhookSender {
  constructor(
    private readonly scope: TaskScope,
    private readonly faults: FaultInjector,
    private readonly deliveries: WebhookDelivery[],
    private readonly reportError: (err: unknown) => void,
  ) {}

  channel(config: WebhookConfig): WebhookChannel {
    return new WebhookChannel(this, config);
  }

  /** Delivers one event (plus the duplicate fault), retrying failed attempts. */
  async deliver(config: WebhookConfig, event: WebhookEvent): Promise<void> {
    const { webhookDelayMs = 0, duplicateDeliveries = false } = this.faults.current;
    if (webhookDelayMs > 0) await this.scope.sleep(webhookDelayMs);
    const rawBody = encodeEvent(event, config.outputFormat);
    const headers: Record<string, string> = {
      ...config.headers,
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
      'x-webhook-event-id': event.event_id,
      'x-webhook-event-type': event.event_type,
    };
    if (config.signingSecret) headers['lc-signature'] = signBody(config.signingSecret, rawBody);
    await this.deliverWithRetries(config.webhookUrl, headers, rawBody, event);
    if (duplicateDeliveries) await this.deliverWithRetries(config.webhookUrl, headers, rawBody, event);
  }

  schedule(work: () => Promise<void>, done: () => void): void {
    this.scope.run(async () => {
      try {
        await work();
      } finally {
        done();
      }
    }, this.reportError);
  }

  private async deliverWithRetries(url: string, headers: Record<string, string>, rawBody: string, event: WebhookEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const status = await this.post(url, headers, rawBody, event);
      if ((typeof status === 'number' && status >= 200 && status < 300) || attempt >= MAX_ATTEMPTS) return;
      await this.scope.sleep(RETRY_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }

  private async post(url: string, headers: Record<string, string>, rawBody: string, event: WebhookEvent): Promise<number | 'error'> {
    const status = await postWebhook(this.scope, url, headers, rawBody);
    if (status === 'error' && this.scope.closed) return status;
    this.deliveries.push({ url, headers: { ...headers }, rawBody, body: event, status });
    return status;
  }
}

/** Keeps the events of one batch to one configuration in order. */
export class WebhookChannel {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly sender: WebhookSender,
    private readonly config: WebhookConfig,
  ) {}

  send(event: WebhookEvent): void {
    if (this.config.events !== null && !this.config.events.includes(event.event_type)) return;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => {
      this.sender.schedule(async () => {
        await previous;
        await this.sender.deliver(this.config, event);
      }, resolve);
    });
  }
}
