import { countWebhook } from '../metrics/run-metrics';
import type { WebhookParser } from '../targets/webhook-parser';
import { receiveWebhook, type WebhookReply, type WebhookRequest } from '../webhook/receive';
import type { ServerlessPorts } from './serverless-ports';
import { dispatchFollowUp } from './workers';

/** Added to the invocation's time left: the claim of an event outlives its handler only by this. */
const LEASE_MARGIN_MS = 1_000;

/**
 * The deployed webhook: authenticate, validate and claim the notification, queue its follow-up
 * (start the job / export), then mark it handled and answer; the slow work happens in the worker
 * functions. The event's claim lasts as long as the invocation can (`remainingMs`): a copy that
 * arrives after a killed invocation is handled again.
 */
export async function handleWebhook(
  ports: ServerlessPorts,
  receiver: { secret: string; parse: WebhookParser },
  request: WebhookRequest,
  remainingMs?: number,
): Promise<WebhookReply> {
  const reply = await receiveWebhook(
    {
      state: ports.state,
      log: ports.log,
      parseWebhook: receiver.parse,
      handOn: (followUp) => dispatchFollowUp(ports, followUp),
      eventLeaseMs: remainingMs === undefined ? undefined : remainingMs + LEASE_MARGIN_MS,
    },
    receiver.secret,
    request,
  );
  countWebhook(ports.metrics, ports.config.target.name, reply);
  return reply;
}
