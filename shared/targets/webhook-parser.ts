import type { IncomingHttpHeaders } from 'node:http';
import type { TargetSpec } from '../state/run-record';
import { parseExtendWebhook } from './extend/webhook';
import { parseLlamaWebhook } from './llamacloud/webhook';
import type { TargetEvent } from './port';
import { parseRoboflowWebhook } from './roboflow/webhook';

export type WebhookParser = (headers: IncomingHttpHeaders, rawBody: string) => TargetEvent | undefined;

/**
 * A target's webhook verification and parsing on its own, for the receiver that needs no API
 * client. Roboflow is authenticated by the path token alone; Extend and LlamaCloud also sign,
 * with `signingSecret`.
 */
export function webhookParserFor(target: TargetSpec['name'], signingSecret?: string): WebhookParser {
  if (target === 'roboflow') return parseRoboflowWebhook;
  if (!signingSecret) throw new Error(`no ${target === 'extend' ? 'Extend' : 'LlamaCloud'} webhook signing secret configured`);
  return target === 'extend' ? (headers, body) => parseExtendWebhook(headers, body, signingSecret) : (headers, body) => parseLlamaWebhook(headers, body, signingSecret);
}
