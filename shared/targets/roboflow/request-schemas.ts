import { z } from 'zod';

// Request bodies, exactly as Roboflow spells them (note the upper-case `URL` suffixes).

export const NotificationCategory = z.enum(['ingest-status', 'files-status']);
export type NotificationCategory = z.infer<typeof NotificationCategory>;

export const Reference = z.object({ name: z.string().min(1), url: z.string().url() });
export type Reference = z.infer<typeof Reference>;

const IngestCommon = {
  ingestId: z.string().optional(),
  notificationsURL: z.string().optional(),
  notificationCategories: z.array(NotificationCategory).optional(),
};

export const ImageReferencesBody = z.union([
  z.strictObject({ ...IngestCommon, imageReferencesURL: z.string() }),
  z.strictObject({ ...IngestCommon, imageReferences: z.array(Reference) }),
]);
export type ImageReferencesBody = z.infer<typeof ImageReferencesBody>;

export const VideoReferencesBody = z.union([
  z.strictObject({ ...IngestCommon, videoReferencesURL: z.string() }),
  z.strictObject({ ...IngestCommon, videoReferences: z.array(Reference) }),
]);
export type VideoReferencesBody = z.infer<typeof VideoReferencesBody>;

export const MachineType = z.enum(['cpu', 'gpu']);
export const AggregationFormat = z.enum(['csv', 'jsonl']);

export const ComputeConfiguration = z.strictObject({
  type: z.literal('compute-configuration-v2'),
  machineType: MachineType.optional(),
  workersPerMachine: z.number().int().positive().optional(),
});

export const ProcessingSpecification = z.strictObject({
  type: z.literal('workflows-processing-specification-v1'),
  workspace: z.string(),
  workflowId: z.string(),
  workflowParameters: z.record(z.string(), z.unknown()).optional(),
  imageInputName: z.string().optional(),
  persistImagesOutputs: z.boolean().optional(),
  imagesOutputsToBePersisted: z.array(z.string()).optional(),
  aggregationFormat: AggregationFormat.optional(),
  maxVideoFPS: z.number().positive().optional(),
  imagesMetadataInputsMapping: z.record(z.string(), z.string()).optional(),
});

export const JobDefinition = z.strictObject({
  type: z.enum(['simple-image-processing-v1', 'simple-video-processing-v1']),
  jobInput: z.strictObject({
    type: z.literal('staging-batch-input-v1'),
    batchId: z.string(),
    partName: z.string().optional(),
    imagesMetadataPart: z.string().optional(),
  }),
  computeConfiguration: ComputeConfiguration,
  processingTimeoutSeconds: z.number().int().positive().optional(),
  maxParallelTasks: z.number().int().positive().optional(),
  maxImageFailureRate: z.number().min(0).max(1).optional(),
  processingSpecification: ProcessingSpecification,
  notificationsURL: z.string().optional(),
  inferenceBackend: z.enum(['old-inference', 'inference-models']).optional(),
});
export type JobDefinition = z.infer<typeof JobDefinition>;

export const RestartOverrides = z.strictObject({
  type: z.literal('parameters-override-v1'),
  computeConfiguration: ComputeConfiguration.optional(),
  maxParallelTasks: z.number().int().positive().optional(),
  processingTimeoutSeconds: z.number().int().positive().optional(),
  maxImageFailureRate: z.number().min(0).max(1).optional(),
});
export type RestartOverrides = z.infer<typeof RestartOverrides>;

export const RoboqlIngestBody = z.strictObject({
  query: z.string(),
  displayName: z.string().optional(),
  ingestId: z.string().optional(),
  notificationsURL: z.string().optional(),
});
export type RoboqlIngestBody = z.infer<typeof RoboqlIngestBody>;

export const LogSeverity = z.enum(['info', 'warning', 'error']);
export type LogSeverity = z.infer<typeof LogSeverity>;
