import type { WebhookParser } from '../targets/webhook-parser';
import { receiveWebhook, type WebhookReply, type WebhookRequest } from '../webhook/receive';
import type { ServerlessPorts } from './serverless-ports';
import { dispatchFollowUp } from './workers';

/**
 * The deployed webhook: authenticate, validate and record the notification, queue its follow-up
 * (start the job / export) and answer; the slow work happens in the worker functions.
 */
export async function handleWebhook(
  ports: ServerlessPorts,
  receiver: { secret: string; parse: WebhookParser },
  request: WebhookRequest,
): Promise<WebhookReply> {
  return receiveWebhook(
    { state: ports.state, log: ports.log, parseWebhook: receiver.parse, handOn: (followUp) => dispatchFollowUp(ports, followUp) },
    receiver.secret,
    request,
  );
}
