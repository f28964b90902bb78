/** Request validation as zod schemas; failures become FastAPI-style 422 `{"detail": [{type, loc, msg}]}`. */
import { z } from 'zod';
import { httpUrl } from '../emulator-kit/schemas';
import { unprocessable } from './http-io';

/** Parses `value` or throws 422 listing every problem with its location under `body`. */
export function parseOrUnprocessable<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw unprocessable(
    result.error.issues.map((issue) => ({
      type: issue.code,
      loc: ['body', ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
      msg: issue.message,
    })),
  );
}

export const DirectoryCreate = z.object({
  name: z.string().min(1).max(1024),
  description: z.string().max(4096).nullish(),
  type: z.enum(['ephemeral', 'user']),
  connector_subscription_id: z.string().nullish(),
  system_metadata: z.record(z.string(), z.unknown()).nullish(),
});

const EVENT_FAMILIES: Record<string, string[]> = {
  batch: ['pending', 'running', 'success', 'error', 'cancelled'],
  parse: ['pending', 'running', 'success', 'partial_success', 'error', 'cancelled'],
  extract: ['pending', 'success', 'partial_success', 'error', 'cancelled'],
  classify: ['pending', 'running', 'success', 'partial_success', 'error', 'cancelled'],
  split: ['pending', 'processing', 'success', 'error', 'cancelled'],
  sheets: ['pending', 'success', 'partial_success', 'error', 'cancelled'],
};
export const WEBHOOK_EVENTS: readonly string[] = [
  ...Object.entries(EVENT_FAMILIES).flatMap(([family, names]) => names.map((n) => `${family}.${n}`)),
  'unmapped_event',
];

// Header names/values that fetch accepts and that cannot smuggle extra header lines.
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a valid HTTP header name');
const headerValue = z.string().max(8192).regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL');

export const WebhookConfiguration = z.object({
  webhook_url: httpUrl,
  webhook_events: z
    .array(z.string().refine((e) => WEBHOOK_EVENTS.includes(e), 'unknown webhook event'))
    .nullish(),
  webhook_headers: z.record(headerName, headerValue).nullish(),
  webhook_output_format: z.enum(['string', 'json']).nullish(),
  webhook_signing_secret: z.string().min(1).max(1024).nullish(),
});

export const BatchCreate = z.object({
  source_directory_id: z.string().min(1),
  config: z.object({
    job: z.object({
      type: z.enum(['parse_v2', 'extract_v2']),
      configuration_id: z.string().min(1),
    }),
  }),
  webhook_configuration_ids: z.array(z.string()).nullish(),
  webhook_configurations: z.array(WebhookConfiguration).max(10).nullish(),
});
export type BatchCreate = z.infer<typeof BatchCreate>;

export const BATCH_STATUSES = ['PENDING', 'THROTTLED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
