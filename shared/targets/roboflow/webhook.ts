import type { IncomingHttpHeaders } from 'node:http';
import { WebhookRejected, webhookJson, type TargetEvent } from '../port';
import { describeIngestError, UNSAFE_URL_DETECTED } from './ingest-errors';
import { RoboflowNotification } from './webhook-schemas';

/** Roboflow sends its publishable key (`rf_<workspace id>`): public, so only a sanity filter. */
const PUBLISHABLE_KEY_HEADER = /^Bearer rf_[A-Za-z0-9_-]+$/;

/** Validates a Roboflow notification and normalises it; throws WebhookRejected (401/400) otherwise. */
export function parseRoboflowWebhook(headers: IncomingHttpHeaders, rawBody: string): TargetEvent {
  if (!PUBLISHABLE_KEY_HEADER.test(headers.authorization ?? '')) {
    throw new WebhookRejected(401, 'missing or malformed Authorization header');
  }
  const json = webhookJson(rawBody);
  const parsed = RoboflowNotification.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WebhookRejected(400, `invalid notification: ${issue.path.join('.') || '<root>'}: ${issue.message}`);
  }
  const n = parsed.data;
  if (n.type === 'roboflow-batch-job-notification-v1') {
    return { kind: 'job', eventId: n.event_id, jobId: n.job_id, state: n.job_state };
  }
  const base = { eventId: n.event_id, batchId: n.batch_id, ingestId: n.ingest_id };
  if (n.notification.type === 'ingest-status-notification-v1') {
    const err = n.notification.error_details;
    return { kind: 'ingest-status', ...base, success: n.notification.success, error: err ? describeIngestError(err.type, err.reason) : undefined };
  }
  return {
    kind: 'files-status',
    ...base,
    ingested: n.notification.ingested_files,
    failed: n.notification.failed_files.map((f) => ({
      name: f.file_name,
      type: f.type,
      reason: f.type === UNSAFE_URL_DETECTED ? describeIngestError(f.type, f.reason) : f.reason,
    })),
    truncated: n.notification.content_truncated,
  };
}
