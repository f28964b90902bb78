import { z } from 'zod';
import { RemoteText } from '../../scrub-secrets';

// Webhook payloads are snake_case (the REST API is camelCase). Unknown fields are tolerated.
// Failure types and reasons are scrubbed of secrets and bounded as they are parsed.

const FailedFile = z.object({ type: RemoteText, file_name: z.string(), reason: RemoteText.default('') });

const IngestStatusNotification = z.object({
  type: z.literal('ingest-status-notification-v1'),
  success: z.boolean(),
  error_details: z.object({ type: RemoteText, reason: RemoteText.default('') }).nullish(),
});

const FilesStatusNotification = z.object({
  type: z.literal('ingest-files-status-notification-v1'),
  success: z.boolean(),
  ingested_files: z.array(z.string()).default([]),
  failed_files: z.array(FailedFile).default([]),
  content_truncated: z.boolean().default(false),
});

export const DataStagingNotification = z.object({
  type: z.literal('roboflow-data-staging-notification-v1'),
  event_id: z.string().min(1),
  ingest_id: z.string(),
  batch_id: z.string(),
  shard_id: z.string().nullish(),
  notification: z.discriminatedUnion('type', [IngestStatusNotification, FilesStatusNotification]),
  delivery_attempt: z.number().int().positive(),
});

export const JobNotification = z.object({
  type: z.literal('roboflow-batch-job-notification-v1'),
  event_id: z.string().min(1),
  job_id: z.string(),
  job_state: z.string(),
  delivery_attempt: z.number().int().positive(),
});

export const RoboflowNotification = z.discriminatedUnion('type', [DataStagingNotification, JobNotification]);
export type RoboflowNotification = z.infer<typeof RoboflowNotification>;
