import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { WebhookRejected, webhookJson, type TargetEvent } from '../port';
import { MAX_EVENT_AGE_SECONDS, withinReplayWindow } from '../replay-window';
import { BatchRun, FullRun } from './api-schemas';

/** Extend signs `v0:<timestamp>:<raw body>`; older or future-dated timestamps are replays. */
export const DEFAULT_MAX_AGE_SECONDS = MAX_EVENT_AGE_SECONDS;

const Envelope = z.object({ eventId: z.string().min(1), eventType: z.string(), payload: z.unknown() });

/** True when the signature headers match the raw body under the signing secret (constant time). */
export function verifyExtendSignature(rawBody: string, headers: IncomingHttpHeaders, secret: string, nowSeconds = Date.now() / 1000, maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS): boolean {
  const timestamp = header(headers, 'x-extend-request-timestamp');
  const signature = header(headers, 'x-extend-request-signature');
  if (!timestamp || !signature || !/^\d+$/.test(timestamp) || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  if (!withinReplayWindow(Number(timestamp), nowSeconds, maxAgeSeconds)) return false;
  const expected = createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/**
 * Verifies, then parses an Extend webhook. Batch completion becomes a `job` event for the batch id;
 * per-run events are acknowledged but carry nothing the bridge needs (results are read at export).
 */
export function parseExtendWebhook(headers: IncomingHttpHeaders, rawBody: string, secret: string, nowSeconds?: number): TargetEvent | undefined {
  if (!verifyExtendSignature(rawBody, headers, secret, nowSeconds)) throw new WebhookRejected(401, 'bad or missing Extend signature');
  const json = webhookJson(rawBody);
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) throw new WebhookRejected(400, `invalid Extend event: ${envelope.error.issues[0]!.path.join('.')}`);
  const { eventId, eventType, payload } = envelope.data;
  if (eventType.startsWith('batch_processor_run.')) {
    const batch = BatchRun.safeParse(payload);
    if (!batch.success) throw new WebhookRejected(400, 'invalid Extend batch payload');
    return { kind: 'job', eventId, jobId: batch.data.id, state: batch.data.status };
  }
  if (/^(extract|classify|split)_run\./.test(eventType) && !FullRun.safeParse(payload).success) {
    throw new WebhookRejected(400, 'invalid Extend run payload');
  }
  return undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
