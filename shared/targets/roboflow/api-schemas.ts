import { z } from 'zod';
import { RemoteText, RemoteValue } from '../../scrub-secrets';

// Responses of Roboflow's Data Staging and Batch Processing APIs (camelCase). Unknown fields are
// tolerated (zod strips them); only what the bridge reads is required. Free text that may end up
// in a run's error (status names, notifications) is scrubbed of secrets and bounded as it is parsed.

const nullableToken = z.string().nullish();

/** `GET /`: a welcome text and, for a valid private key, the slug of the key's workspace. */
export const WorkspaceResponse = z.object({ workspace: z.string().min(1).optional() });

export const ReferencesIngestResponse = z.object({
  ingestId: z.string(),
  shardIds: z.array(z.string()).nullish(),
  duplicated: z.boolean().nullish(),
});
export type ReferencesIngestResponse = z.infer<typeof ReferencesIngestResponse>;

export const CountResponse = z.object({ count: z.number().int() });

export const ShardDetails = z.object({
  shardId: z.string(),
  statusName: RemoteText,
  statusType: z.string(),
  eventTimestamp: z.string().nullish(),
  shardObjectsCount: z.number().int().nullish(),
  statusMetadata: z.unknown().optional(),
});
export type ShardDetails = z.infer<typeof ShardDetails>;
export const ShardsPage = z.object({ shards: z.array(ShardDetails), nextPageToken: nullableToken });

export const BatchMetadata = z.object({
  displayName: z.string().nullish(),
  batchId: z.string(),
  batchType: z.string(),
  batchContentType: z.string().nullish(),
  createdDate: z.string().nullish(),
  expiryDate: z.string().nullish(),
});
export type BatchMetadata = z.infer<typeof BatchMetadata>;
export const BatchResponse = z.object({ batch: BatchMetadata });
export const BatchesPage = z.object({ batches: z.array(BatchMetadata), nextPageToken: nullableToken });

export const BatchPart = z.object({
  partName: z.string(),
  partType: z.string().nullish(),
  contentType: z.string().nullish(),
  partDescription: z.string().nullish(),
  nestedContentType: z.string().nullish(),
});
export const BatchPartsResponse = z.object({ batchParts: z.array(BatchPart) });

export const FileMetadata = z.object({
  downloadURL: z.string(),
  fileName: z.string(),
  partName: z.string().nullish(),
  shardId: z.string().nullish(),
  contentType: z.string().nullish(),
  nestedContentType: z.string().nullish(),
});
export type FileMetadata = z.infer<typeof FileMetadata>;
export const FilesPage = z.object({ filesMetadata: z.array(FileMetadata), nextPageToken: nullableToken });

export const SignedUrlDetails = z.object({
  uploadURL: z.string(),
  extensionHeaders: z.record(z.string(), z.string()).nullish(),
  shardId: z.string().nullish(),
  method: z.string().nullish(),
  maxFileSize: z.number().nullish(),
  maxNumberOfImages: z.number().nullish(),
  maxShardSize: z.number().nullish(),
});
export const SignedUploadResponse = z.object({ signedURLDetails: SignedUrlDetails });

export const JobMetadata = z.object({
  jobId: z.string(),
  name: z.string().nullish(),
  jobDefinition: z.unknown().optional(),
  currentStage: z.string().nullish(),
  plannedStages: z.array(z.string()).nullish(),
  error: z.boolean().default(false),
  isTerminal: z.boolean().default(false),
  lastNotification: RemoteValue.optional(),
  createdAt: z.string().nullish(),
  lastUpdate: z.string().nullish(),
  restartParametersOverride: z.array(z.unknown()).default([]),
});
export type JobMetadata = z.infer<typeof JobMetadata>;
export const JobResponse = z.object({ job: JobMetadata });
export const JobsPage = z.object({ jobs: z.array(JobMetadata), nextPageToken: nullableToken });

export const JobStage = z.object({
  processingStageId: z.string(),
  processingStageName: z.string(),
  tasksNumber: z.number().int().nullish(),
  outputBatches: z.array(z.string()).default([]),
  startTimestamp: z.string().nullish(),
  lastEventTimestamp: z.string().nullish(),
  notification: RemoteValue.optional(),
  statusType: z.string(),
});
export type JobStage = z.infer<typeof JobStage>;
export const StagesResponse = z.object({ stages: z.array(JobStage) });

export const TasksPage = z.object({
  tasks: z.array(
    z.object({
      taskId: z.string(),
      notification: z.unknown().optional(),
      statusType: z.string(),
      progress: z.unknown().optional(),
      eventTimestamp: z.string().nullish(),
    }),
  ),
  nextPageToken: nullableToken,
});

export const LogsPage = z.object({
  logs: z.array(
    z.object({
      createdAt: z.string().nullish(),
      processingStageId: z.string().nullish(),
      taskId: z.string().nullish(),
      severity: z.string(),
      reportingModule: z.string().nullish(),
      logType: z.string().nullish(),
      payload: z.unknown().optional(),
    }),
  ),
  nextPageToken: nullableToken,
});

/** Endpoints whose bodies are undocumented: accept any JSON. */
export const AnyJson = z.unknown();
