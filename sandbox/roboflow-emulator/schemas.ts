/** Request validation: path ids and the JSON bodies the emulator accepts, as zod schemas. */
import { z } from 'zod';
import { httpUrl, parseOr } from '../emulator-kit/schemas';
import { badRequest } from './http-io';

const BATCH_ID = /^[a-z0-9_-]{1,64}$/;
const JOB_ID = /^[a-z0-9_-]{1,20}$/;

export function checkBatchId(id: string): string {
  if (!BATCH_ID.test(id)) throw badRequest('batch_id must match ^[a-z0-9_-]+$ and be at most 64 characters');
  return id;
}

export function checkJobId(id: string): string {
  if (!JOB_ID.test(id)) throw badRequest('job_id must match ^[a-z0-9_-]+$ and be at most 20 characters');
  return id;
}

/** Parses `value` or throws a 400 whose message lists every problem with its JSON path. */
export function parseOrBadRequest<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  return parseOr(schema, value, what, badRequest);
}

// ---- data staging: reference ingests ----

export const MAX_INLINE_REFERENCES = 20_000;

export const Reference = z.object({ name: z.string().min(1), url: z.string().min(1) });
export type Reference = z.infer<typeof Reference>;

export const NotificationCategory = z.enum(['ingest-status', 'files-status']);
export type NotificationCategory = z.infer<typeof NotificationCategory>;

const ingestCommon = {
  ingestId: z.string().min(1).max(256).optional(),
  notificationsURL: httpUrl.optional(),
  notificationCategories: z.array(NotificationCategory).min(1).optional(),
};
const referenceList = z.array(Reference).min(1).max(MAX_INLINE_REFERENCES).optional();
const exactlyOne = (a: string, b: string) => (body: Record<string, unknown>) =>
  (body[a] === undefined) !== (body[b] === undefined) || `exactly one of ${a} or ${b} is required`;

const ImageIngestBody = z
  .strictObject({ imageReferences: referenceList, imageReferencesURL: httpUrl.optional(), ...ingestCommon })
  .check((ctx) => {
    const verdict = exactlyOne('imageReferences', 'imageReferencesURL')(ctx.value);
    if (verdict !== true) ctx.issues.push({ code: 'custom', message: verdict, input: ctx.value });
  });

const VideoIngestBody = z
  .strictObject({ videoReferences: referenceList, videoReferencesURL: httpUrl.optional(), ...ingestCommon })
  .check((ctx) => {
    const verdict = exactlyOne('videoReferences', 'videoReferencesURL')(ctx.value);
    if (verdict !== true) ctx.issues.push({ code: 'custom', message: verdict, input: ctx.value });
  });

export type MediaKind = 'images' | 'videos';

/** Ingest request normalised across the image and video shapes. */
export interface IngestRequest {
  kind: MediaKind;
  source: { inline: Reference[] } | { url: string };
  ingestId?: string;
  notificationsURL?: string;
  notificationCategories: NotificationCategory[];
}

export function parseIngestBody(kind: MediaKind, body: unknown): IngestRequest {
  const common = (b: z.infer<typeof ImageIngestBody> | z.infer<typeof VideoIngestBody>) => ({
    kind,
    ingestId: b.ingestId,
    notificationsURL: b.notificationsURL,
    notificationCategories: b.notificationCategories ?? ['ingest-status'],
  });
  if (kind === 'images') {
    const b = parseOrBadRequest(ImageIngestBody, body, 'image references body');
    return { ...common(b), source: b.imageReferences ? { inline: b.imageReferences } : { url: b.imageReferencesURL! } };
  }
  const b = parseOrBadRequest(VideoIngestBody, body, 'video references body');
  return { ...common(b), source: b.videoReferences ? { inline: b.videoReferences } : { url: b.videoReferencesURL! } };
}

// ---- batch processing: jobs ----

const ComputeConfiguration = z.strictObject({
  type: z.literal('compute-configuration-v2'),
  machineType: z.enum(['cpu', 'gpu']).optional(),
  workersPerMachine: z.int().positive().optional(),
});

const JobInput = z.strictObject({
  type: z.literal('staging-batch-input-v1'),
  batchId: z.string().regex(BATCH_ID, 'must be a valid batch id'),
  partName: z.string().min(1).optional(),
  imagesMetadataPart: z.string().min(1).optional(),
});

const ProcessingSpecification = z.strictObject({
  type: z.literal('workflows-processing-specification-v1'),
  workspace: z.string().min(1),
  workflowId: z.string().min(1),
  workflowParameters: z.record(z.string(), z.unknown()).optional(),
  imageInputName: z.string().min(1).optional(),
  persistImagesOutputs: z.boolean().optional(),
  imagesOutputsToBePersisted: z.array(z.string()).optional(),
  aggregationFormat: z.enum(['csv', 'jsonl']).optional(),
  maxVideoFPS: z.number().positive().optional(),
  imagesMetadataInputsMapping: z.record(z.string(), z.string()).optional(),
});

const maxImageFailureRate = z.number().min(0).max(1).optional();

export const JobDefinition = z
  .strictObject({
    type: z.enum(['simple-image-processing-v1', 'simple-video-processing-v1']),
    jobInput: JobInput,
    computeConfiguration: ComputeConfiguration,
    processingSpecification: ProcessingSpecification,
    processingTimeoutSeconds: z.int().positive().optional(),
    maxParallelTasks: z.int().positive().optional(),
    maxImageFailureRate,
    notificationsURL: httpUrl.optional(),
    inferenceBackend: z.enum(['old-inference', 'inference-models']).optional(),
  })
  .check((ctx) => {
    const job = ctx.value;
    const isVideo = job.type === 'simple-video-processing-v1';
    const misplaced = isVideo
      ? [
          ['maxImageFailureRate', job.maxImageFailureRate],
          ['jobInput.imagesMetadataPart', job.jobInput.imagesMetadataPart],
          ['processingSpecification.imagesMetadataInputsMapping', job.processingSpecification.imagesMetadataInputsMapping],
        ]
      : [['processingSpecification.maxVideoFPS', job.processingSpecification.maxVideoFPS]];
    for (const [field, value] of misplaced) {
      if (value !== undefined) {
        ctx.issues.push({ code: 'custom', message: `${field} is not allowed for ${job.type}`, input: job });
      }
    }
  });
export type JobDefinition = z.infer<typeof JobDefinition>;

export const RestartOverrides = z.strictObject({
  type: z.literal('parameters-override-v1'),
  computeConfiguration: ComputeConfiguration.optional(),
  maxParallelTasks: z.int().positive().optional(),
  processingTimeoutSeconds: z.int().positive().optional(),
  maxImageFailureRate,
});
export type RestartOverrides = z.infer<typeof RestartOverrides>;

export const LogSeverity = z.enum(['info', 'warning', 'error']);
export type LogSeverity = z.infer<typeof LogSeverity>;
