/** Request validation: batch submission bodies and list queries, as zod schemas plus the checks zod cannot express. */
import { z } from 'zod';
import { httpUrl, parseOr } from '../emulator-kit/schemas';
import { invalidRequest } from './http-io';
import type { ProcessorKind } from './kinds';

export const MAX_METADATA_BYTES = 10 * 1024;

export const RUN_STATUSES = ['PENDING', 'PROCESSING', 'PROCESSED', 'FAILED', 'CANCELLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Parses `value` or throws a 400 whose message lists every problem with its JSON path. */
export function parseOrBadRequest<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  return parseOr(schema, value, what, invalidRequest);
}

const fileName = z.string().min(1).max(1024);

const UrlFile = z.strictObject({
  url: httpUrl,
  name: fileName.optional(),
  settings: z.strictObject({ password: z.string().optional() }).optional(),
});
const IdFile = z.strictObject({ id: z.string().min(1).max(256) });
const TextFile = z.strictObject({ text: z.string().min(1), name: fileName.optional() });

export type FileInput =
  | { kind: 'url'; url: string; name?: string }
  | { kind: 'id'; id: string }
  | { kind: 'text'; text: string; name?: string };

const ProcessorRef = z.strictObject({
  id: z.string().min(1).max(256),
  version: z.string().min(1).max(64).optional(),
  // Accepted and recorded; the emulated output does not depend on it.
  overrideConfig: z.record(z.string(), z.unknown()).optional(),
});

const BatchBody = z.strictObject({
  extractor: ProcessorRef.optional(),
  classifier: ProcessorRef.optional(),
  splitter: ProcessorRef.optional(),
  priority: z.int().min(1).max(100).optional(),
  inputs: z.array(
    z.strictObject({
      file: z.record(z.string(), z.unknown()),
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

export interface BatchInput {
  file: FileInput;
  metadata: Record<string, unknown> | null;
}

export interface BatchRequest {
  processorId: string;
  version: string | undefined;
  priority: number | undefined;
  inputs: BatchInput[];
}

export function parseBatchBody(kind: ProcessorKind, body: unknown, maxInputs: number): BatchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('request body must be a JSON object');
  const raw = body as Record<string, unknown>;
  if (raw.config !== undefined) {
    throw invalidRequest(`inline config is not supported for batch requests; reference an existing ${kind.processorField} by id`);
  }
  // Checked before zod so an oversized batch is rejected without validating every item.
  if (Array.isArray(raw.inputs) && (raw.inputs.length < 1 || raw.inputs.length > maxInputs)) {
    throw invalidRequest(`inputs must contain between 1 and ${maxInputs} items; got ${raw.inputs.length}`);
  }
  const parsed = parseOrBadRequest(BatchBody, body, 'batch request');
  for (const other of ['extractor', 'classifier', 'splitter'] as const) {
    if (other !== kind.processorField && parsed[other] !== undefined) {
      throw invalidRequest(`${other} is not allowed on ${kind.runsPath}/batch; use ${kind.processorField}`);
    }
  }
  const ref = parsed[kind.processorField];
  if (!ref) throw invalidRequest(`${kind.processorField} is required: { id, version? }`);

  const inputs = parsed.inputs.map((input, i): BatchInput => {
    const file = parseFileInput(input.file, `inputs.${i}.file`);
    if (file.kind === 'text' && kind.type === 'split') {
      throw invalidRequest(`inputs.${i}.file: raw text input is not supported for split runs; provide a url or a file id`);
    }
    const metadata = input.metadata ?? null;
    if (metadata && Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
      throw invalidRequest(`inputs.${i}.metadata exceeds the maximum size of ${MAX_METADATA_BYTES} bytes`);
    }
    return { file, metadata };
  });
  return { processorId: ref.id, version: ref.version, priority: parsed.priority, inputs };
}

/** Picks the file shape by its distinguishing key, so errors name the problem of that shape. */
function parseFileInput(file: Record<string, unknown>, path: string): FileInput {
  if ('url' in file) {
    const f = parseOrBadRequest(UrlFile, file, path);
    return { kind: 'url', url: f.url, name: f.name };
  }
  if ('id' in file) return { kind: 'id', id: parseOrBadRequest(IdFile, file, path).id };
  if ('text' in file) {
    const f = parseOrBadRequest(TextFile, file, path);
    return { kind: 'text', text: f.text, name: f.name };
  }
  throw invalidRequest(`invalid ${path}: expected { url, name? }, { id } or { text, name? }`);
}

// ---- list endpoints ----

export interface ListQuery {
  batchId?: string;
  status?: RunStatus;
  processorId?: string;
  fileNameContains?: string;
  sortBy: 'createdAt' | 'updatedAt';
  sortDir: 'asc' | 'desc';
  nextPageToken?: string;
  maxPageSize?: number;
}

export function parseListQuery(kind: ProcessorKind, query: Record<string, string>): ListQuery {
  const optional = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const maxPageSize = optional(query.maxPageSize);
  if (maxPageSize !== undefined && (!/^\d+$/.test(maxPageSize) || Number(maxPageSize) < 1)) {
    throw invalidRequest('maxPageSize must be a positive integer');
  }
  return {
    batchId: optional(query.batchId),
    status: optional(query.status) ? parseOrBadRequest(z.enum(RUN_STATUSES), query.status, 'status') : undefined,
    processorId: optional(query[kind.idFilter]),
    fileNameContains: optional(query.fileNameContains),
    sortBy: optional(query.sortBy) ? parseOrBadRequest(z.enum(['createdAt', 'updatedAt']), query.sortBy, 'sortBy') : 'createdAt',
    sortDir: optional(query.sortDir) ? parseOrBadRequest(z.enum(['asc', 'desc']), query.sortDir, 'sortDir') : 'desc',
    nextPageToken: optional(query.nextPageToken),
    maxPageSize: maxPageSize === undefined ? undefined : Number(maxPageSize),
  };
}
