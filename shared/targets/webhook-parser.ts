import type { IncomingHttpHeaders } from 'node:http';
import type { TargetSpec } from '../state/run-record';
import { parseExtendWebhook } from './extend/webhook';
import { parseLlamaWebhook } from './llamacloud/webhook';
import type { TargetEvent } from './port';
import { parseRoboflowWebhook } from './roboflow/webhook';
import { llamaSigningSecret } from './webhook-secrets';

export type WebhookParser = (headers: IncomingHttpHeaders, rawBody: string) => TargetEvent | undefined;

/**
 * A target's webhook verification and parsing on its own, for the receiver that needs no API
 * client. Roboflow is authenticated by the path token alone; Extend and LlamaCloud also sign.
 */
export function webhookParserFor(target: TargetSpec['name'], secrets: { pathSecret: string; extendSigningSecret?: string }): WebhookParser {
  switch (target) {
    case 'roboflow':
      return parseRoboflowWebhook;
    case 'extend': {
      const secret = secrets.extendSigningSecret;
      if (!secret) throw new Error('no Extend webhook signing secret configured');
      return (headers, body) => parseExtendWebhook(headers, body, secret);
    }
    case 'llamacloud': {
      const secret = llamaSigningSecret(secrets.pathSecret);
      return (headers, body) => parseLlamaWebhook(headers, body, secret);
    }
  }
}
