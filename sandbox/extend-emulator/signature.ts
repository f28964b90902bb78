/** Extend's webhook signing scheme: hex HMAC-SHA256, keyed by the whole signing secret, over `v0:<ts>:<raw body>`. */
import { createHmac } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-extend-request-timestamp';
export const SIGNATURE_HEADER = 'x-extend-request-signature';

export function signWebhook(signingSecret: string, timestampSeconds: number, rawBody: string): string {
  return createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex');
}
