/** Data-staging webhook events (`roboflow-data-staging-notification-v1`), for reference ingests and uploaded archives alike. */
import { randomUUID } from 'node:crypto';
import type { WebhookEvent } from './webhooks';

export function stagingEvent(ingestId: string, batchId: string, shardId: string | null, notification: Record<string, unknown>): WebhookEvent {
  return {
    type: 'roboflow-data-staging-notification-v1',
    event_id: randomUUID(),
    ingest_id: ingestId,
    batch_id: batchId,
    shard_id: shardId,
    notification,
  };
}
