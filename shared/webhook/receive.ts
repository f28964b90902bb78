import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { errorMessage } from '../errors';
import { applyEvent, type ChainDeps, type FollowUp } from '../pipeline/chain';
import { WebhookRejected, type BatchTarget } from '../targets/port';

export const WEBHOOK_PATH_PREFIX = '/webhooks/';

export interface WebhookRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WebhookReply {
  status: number;
  body: { outcome?: string; error?: string };
  /** Work to run after replying (start the job, export); the webhook answers first. */
  followUp?: FollowUp;
}

/** The public URL path Roboflow posts to: the secret is the authentication. */
export function webhookPath(secret: string): string {
  return `${WEBHOOK_PATH_PREFIX}${secret}`;
}

/**
 * Authenticates (secret path token, constant-time), validates and records one notification.
 * Shared by the CLI's node:http receiver and the Lambda Function URL handler. Rejected requests
 * change nothing.
 */
export interface ReceiverDeps extends Pick<ChainDeps, 'state' | 'log'> {
  parseWebhook: BatchTarget['parseWebhook'];
  /** Queues the follow-up before the event counts as recorded (deployed); absent in the CLI, which runs it after replying. */
  handOn?: (followUp: FollowUp) => Promise<void>;
  /** How long this request may hold its event's claim (deployed: the invocation's time left). */
  eventLeaseMs?: number;
}

/** The answer to a request its request line already disqualifies (path, path token, method); undefined when it may go on. */
export function refuseRequestLine(secret: string, req: Pick<WebhookRequest, 'method' | 'path'>): WebhookReply | undefined {
  if (!req.path.startsWith(WEBHOOK_PATH_PREFIX)) return { status: 404, body: { error: 'not found' } };
  if (!secretMatches(secret, req.path.slice(WEBHOOK_PATH_PREFIX.length))) return { status: 401, body: { error: 'unauthorized' } };
  if (req.method !== 'POST') return { status: 405, body: { error: 'method not allowed' } };
  return undefined;
}

export async function receiveWebhook(deps: ReceiverDeps, secret: string, req: WebhookRequest): Promise<WebhookReply> {
  const refusal = refuseRequestLine(secret, req);
  if (refusal) return refusal;
  try {
    const event = deps.parseWebhook(req.headers, req.body);
    if (!event) return { status: 200, body: { outcome: 'ignored' } };
    const result = await applyEvent(deps, event, deps.handOn, deps.eventLeaseMs);
    // Another copy of the event is being handled: the sender retries this one later, in case that fails.
    if (result.outcome === 'in-progress') return { status: 503, body: { outcome: result.outcome } };
    return { status: 200, body: { outcome: result.outcome }, followUp: result.outcome === 'recorded' ? result.followUp : undefined };
  } catch (err) {
    if (err instanceof WebhookRejected) return { status: err.status, body: { error: err.message } };
    deps.log.error('webhook processing failed', { error: errorMessage(err) });
    return { status: 500, body: { error: 'internal error' } };
  }
}

function secretMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
