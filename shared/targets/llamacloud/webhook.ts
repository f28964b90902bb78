import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { WebhookRejected, type TargetEvent } from '../port';
import { MAX_EVENT_AGE_SECONDS, withinReplayWindow } from '../replay-window';

const Event = z.object({
  event_id: z.string().min(1),
  event_type: z.string(),
  timestamp: z.number().optional(),
  data: z.object({ id: z.string(), status: z.string().optional() }).passthrough(),
});

/** `LC-Signature: sha256=<hex>` is an HMAC-SHA256 of the raw body with the batch's signing secret. */
export function verifyLlamaSignature(rawBody: string, headers: IncomingHttpHeaders, secret: string): boolean {
  const value = headers['lc-signature'];
  const signature = (Array.isArray(value) ? value[0] : value) ?? '';
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(signature);
  if (!match) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(rawBody).digest(), Buffer.from(match[1]!, 'hex'));
}

/**
 * Verifies, then parses a LlamaCloud webhook; batch outcomes become `job` events for the batch id.
 * LlamaCloud signs the body only (no signed timestamp header), but the body carries the send time
 * (`timestamp`, Unix seconds): a signed body outside the replay window is refused like an unsigned
 * one. A body without it is taken (its event id is still handled once, and a run that ended stays
 * as it is).
 */
export function parseLlamaWebhook(headers: IncomingHttpHeaders, rawBody: string, secret: string, nowSeconds?: number): TargetEvent | undefined {
  if (!verifyLlamaSignature(rawBody, headers, secret)) throw new WebhookRejected(401, 'bad or missing LC-Signature');
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
    // With the default "string" output format the body is a JSON string holding the event.
    if (typeof json === 'string') json = JSON.parse(json);
  } catch {
    throw new WebhookRejected(400, 'body is not JSON');
  }
  const event = Event.safeParse(json);
  if (!event.success) throw new WebhookRejected(400, `invalid LlamaCloud event: ${event.error.issues[0]!.path.join('.')}`);
  const { event_id, event_type, timestamp, data } = event.data;
  if (timestamp !== undefined && !withinReplayWindow(timestamp, nowSeconds)) {
    throw new WebhookRejected(401, `stale LlamaCloud event: sent more than ${MAX_EVENT_AGE_SECONDS} s ago (or ahead of time)`);
  }
  if (!/^batch\.(success|error|cancelled)$/.test(event_type)) return undefined;
  return { kind: 'job', eventId: event_id, jobId: data.id, state: event_type.slice('batch.'.length) };
}
