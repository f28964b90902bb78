import { z } from 'zod';
import { RemoteText } from '../../scrub-secrets';

// LlamaCloud (directories, v2 batches, parse/extract jobs) responses the bridge reads. Error
// messages are scrubbed of secrets and bounded as they are parsed.

export const Directory = z.object({ id: z.string(), name: z.string().optional(), type: z.string().optional() });

export const DirectoryFile = z.object({
  id: z.string(),
  directory_id: z.string().optional(),
  display_name: z.string().nullish(),
  unique_id: z.string().nullish(),
  file_id: z.string().nullish(),
});
export type DirectoryFile = z.infer<typeof DirectoryFile>;

/** LlamaCloud's cursor pages: `{ items, next_page_token? }`. */
export const pageOf = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), next_page_token: z.string().nullish() });

export const JobType = z.enum(['parse_v2', 'extract_v2']);
export type JobType = z.infer<typeof JobType>;

export const BatchResult = z.object({
  source_directory_file_id: z.string(),
  job_reference: z.object({ type: z.string(), id: z.string() }).nullish(),
  error_message: RemoteText.nullish(),
});

export const Batch = z.object({
  id: z.string(),
  source_directory_id: z.string().optional(),
  status: z.string(), // PENDING | THROTTLED | RUNNING | COMPLETED | FAILED | CANCELLED
  results: z.array(BatchResult).nullish(),
});
export type Batch = z.infer<typeof Batch>;

export const ParseJob = z.object({
  job: z.object({ id: z.string(), status: z.string(), error_message: RemoteText.nullish() }),
  markdown_full: z.string().nullish(),
  markdown: z.object({ pages: z.array(z.unknown()) }).nullish(),
});
export type ParseJob = z.infer<typeof ParseJob>;

export const ExtractJob = z.object({
  id: z.string(),
  status: z.string(),
  error_message: RemoteText.nullish(),
  extract_result: z.unknown().optional(),
});
export type ExtractJob = z.infer<typeof ExtractJob>;
