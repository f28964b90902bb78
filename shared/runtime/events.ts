import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import { z } from 'zod';
import type { CreatedObject } from '../run/object-events';
import type { WebhookRequest } from '../webhook/receive';

/** The scheduled-run target input: the source, plus the tick time and event id templated in by the rule. */
export const ScheduledInput = z.object({
  sourceId: z.string(),
  time: z.string().datetime({ offset: true }).optional(),
  id: z.string().optional(),
});
export type ScheduledInput = z.infer<typeof ScheduledInput>;

export const FunctionUrlEvent = z.object({
  rawPath: z.string(),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
});

export function webhookRequestOf(event: unknown): WebhookRequest {
  const e = FunctionUrlEvent.parse(event);
  const body = e.body === undefined ? '' : e.isBase64Encoded ? Buffer.from(e.body, 'base64').toString('utf8') : e.body;
  return { method: e.requestContext.http.method, path: e.rawPath, headers: e.headers, body };
}

// S3 "Object Created" through EventBridge (then an SQS target): Powertools' schema of the whole
// event, narrowed to this source and type. S3 reports IPv6 requesters too (dual-stack endpoints),
// which that schema's IPv4-only source address would refuse.
const EventBridgeObjectCreated = S3EventNotificationEventBridgeSchema.extend({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: S3EventNotificationEventBridgeSchema.shape.detail.extend({ 'source-ip-address': z.string().optional() }),
});

// Classic S3 notifications to SQS: only the fields the bridge reads (Powertools' S3Schema also
// requires the requester's identity and request ids, which the bridge has no use for).

const S3Notification = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({ key: z.string(), size: z.number().int().nonnegative().default(0), eTag: z.string().optional() }),
      }),
    }),
  ),
});

/** S3 sends this once when a notification is configured; it carries no object. */
const S3TestEvent = z.object({ Event: z.literal('s3:TestEvent') });

/** Keys arrive URL-encoded, with '+' for spaces, in both event shapes. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** The created objects in one queue message body; throws on anything else (it goes to the DLQ). */
export function createdObjectsOf(body: unknown): CreatedObject[] {
  const bridged = EventBridgeObjectCreated.safeParse(body);
  if (bridged.success) {
    const { bucket, object } = bridged.data.detail;
    return [{ bucket: bucket.name, key: decodeEventKey(object.key), size: object.size ?? 0, etag: object.etag }];
  }
  const classic = S3Notification.safeParse(body);
  if (classic.success) {
    return classic.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeEventKey(r.s3.object.key),
      size: r.s3.object.size,
      etag: r.s3.object.eTag,
    }));
  }
  if (S3TestEvent.safeParse(body).success) return [];
  throw new Error('not an S3 Object Created event (EventBridge) or S3 notification');
}

export const CreatedObjectsMessage = z.unknown().transform((body, ctx) => {
  try {
    return createdObjectsOf(body);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
