import type { RunRecord } from '../../shared/state/run-record';
import { ingestIdFor } from '../../shared/targets/roboflow/ids';

/** Headers Roboflow sends with every notification (its public publishable key). */
export const ROBOFLOW_NOTIFICATION_HEADERS = { 'content-type': 'application/json', authorization: 'Bearer rf_emulated' };

/** The body of Roboflow's "ingest finished" notification for the run's first chunk (its ingest id is derived from the batch id). */
export function ingestStatusBody(run: RunRecord, eventId: string, success = true): string {
  return JSON.stringify({
    type: 'roboflow-data-staging-notification-v1',
    event_id: eventId,
    ingest_id: ingestIdFor(run.batchId, 0),
    batch_id: run.batchId,
    shard_id: null,
    notification: { type: 'ingest-status-notification-v1', success },
    delivery_attempt: 1,
  });
}

/** The body of Roboflow's "job finished" notification. */
export function jobFinishedBody(jobId: string, eventId: string, state = 'success'): string {
  return JSON.stringify({ type: 'roboflow-batch-job-notification-v1', event_id: eventId, job_id: jobId, job_state: state, delivery_attempt: 1 });
}
