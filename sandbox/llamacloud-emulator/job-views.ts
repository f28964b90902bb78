/**
 * JSON views of parse (`GET /api/v2/parse/{id}`) and extract (`GET /api/v2/extract/{id}`) jobs with
 * their `expand` options, and the result files behind the `*_content_metadata` presigned URLs.
 */
import type { EmulatorContext } from './context';
import { documentPages, extractResult } from './documents';
import { unprocessable } from './http-io';
import type { ResultFile } from './presign';
import type { Job } from './store';

const INLINE_PARSE_EXPANDS = ['text', 'markdown', 'items', 'metadata', 'job_metadata', 'usage', 'text_full', 'markdown_full', 'forms'] as const;
/** Result files the emulator produces, by `<name>_content_metadata` expand. */
const SERVED_RESULTS = ['text', 'markdown', 'items', 'metadata', 'text_full', 'markdown_full'] as const;
/** Accepted but never produced (`exists: false`). */
const ABSENT_RESULTS = ['forms', 'raw_words', 'xlsx', 'output_pdf', 'images', 'stripped_markdown', 'concatenated_stripped_markdown'] as const;
const EXTRACT_EXPANDS = ['configuration', 'extract_metadata', 'usage'] as const;

type ServedResult = (typeof SERVED_RESULTS)[number];

function checkExpands(expand: Set<string>, allowed: readonly string[]): void {
  const unknown = [...expand].filter((e) => !allowed.includes(e));
  if (unknown.length > 0) {
    throw unprocessable(unknown.map((e) => ({ type: 'enum', loc: ['query', 'expand'], msg: `unsupported expand value: ${e}` })));
  }
}

const PARSE_ALLOWED: readonly string[] = [
  ...INLINE_PARSE_EXPANDS,
  ...[...SERVED_RESULTS, ...ABSENT_RESULTS].map((name) => `${name}_content_metadata`),
];

export function parseJobView(ctx: EmulatorContext, job: Job, expand: Set<string>) {
  checkExpands(expand, PARSE_ALLOWED);
  const done = job.status === 'COMPLETED';
  const view: Record<string, unknown> = {
    job: {
      id: job.id,
      project_id: ctx.options.projectId,
      status: job.status,
      error_message: job.errorMessage,
      name: job.file.displayName,
      tier: null,
      created_at: job.createdAt,
      updated_at: job.updatedAt,
    },
  };
  const outputs = done ? parseOutputs(job) : undefined;
  for (const name of INLINE_PARSE_EXPANDS) {
    if (expand.has(name)) view[name] = outputs ? outputs[name] : null;
  }

  const contentMetadata: Record<string, unknown> = {};
  for (const name of [...SERVED_RESULTS, ...ABSENT_RESULTS]) {
    if (!expand.has(`${name}_content_metadata`)) continue;
    const file = done && isServed(name) ? parseResultFile(job, name) : undefined;
    contentMetadata[name] = file
      ? { size_bytes: file.body.length, exists: true, presigned_url: ctx.signer.urlFor(job.id, name).url }
      : { size_bytes: 0, exists: false, presigned_url: null };
  }
  if (Object.keys(contentMetadata).length > 0) view.result_content_metadata = contentMetadata;
  return view;
}

export function extractJobView(ctx: EmulatorContext, job: Job, expand: Set<string>) {
  checkExpands(expand, EXTRACT_EXPANDS);
  const done = job.status === 'COMPLETED';
  const result = done ? extractResult(job.file.displayName, job.file.content) : null;
  const view: Record<string, unknown> = {
    id: job.id,
    project_id: ctx.options.projectId,
    file_input: job.file.id,
    status: job.status,
    configuration_id: job.configurationId,
    error_message: job.errorMessage,
    extract_result: result,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
  };
  if (expand.has('configuration')) {
    view.configuration = { data_schema: { type: 'object' }, extraction_target: 'per_doc', tier: 'cost_effective' };
  }
  if (expand.has('extract_metadata')) view.extract_metadata = done ? { field_metadata: null, parse_job_id: null, parse_tier: null } : null;
  if (expand.has('usage')) view.metadata = { usage: { num_pages_extracted: result ? (result.page_count as number) : 0 } };
  return view;
}

function isServed(name: string): name is ServedResult {
  return (SERVED_RESULTS as readonly string[]).includes(name);
}

/** Inline expand values of a completed parse job. */
function parseOutputs(job: Job): Record<(typeof INLINE_PARSE_EXPANDS)[number], unknown> {
  const pages = documentPages(job.file.displayName, job.file.content);
  return {
    markdown: { pages: pages.map((p) => ({ page_number: p.page_number, markdown: p.markdown, success: true })) },
    markdown_full: pages.map((p) => p.markdown).join('\n\n'),
    text: { pages: pages.map((p) => ({ page_number: p.page_number, text: p.text })) },
    text_full: pages.map((p) => p.text).join('\n\n'),
    items: { pages: pages.map((p) => ({ page_number: p.page_number, items: [{ type: 'text', value: p.text, md: p.markdown }], success: true })) },
    metadata: { pages: pages.map((p) => ({ page_number: p.page_number, confidence: 1 })) },
    job_metadata: { job_pages: pages.length, source_size_bytes: job.file.content.size },
    usage: { num_pages: pages.length },
    forms: null,
  };
}

/**
 * Body of a presigned result file; undefined when the job has no such result (yet). JSON results hold
 * the same value as the inline expand; `*_full` results are the plain markdown/text.
 */
export function parseResultFile(job: Job, name: string): ResultFile | undefined {
  if (job.kind !== 'parse_v2' || job.status !== 'COMPLETED' || !isServed(name)) return undefined;
  const value = parseOutputs(job)[name];
  if (name === 'markdown_full') return { contentType: 'text/markdown; charset=utf-8', body: Buffer.from(value as string) };
  if (name === 'text_full') return { contentType: 'text/plain; charset=utf-8', body: Buffer.from(value as string) };
  return { contentType: 'application/json', body: Buffer.from(JSON.stringify(value)) };
}
