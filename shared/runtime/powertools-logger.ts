import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { redactFields, type Logger } from '../log';
import { scrubSecrets } from '../scrub-secrets';

/**
 * Our `Logger` port on a Powertools Logger: one JSON line per record on stdout with the level,
 * time, service, the invocation's request id and cold-start flag and the run id (when known), then
 * the caller's fields. Message and fields are scrubbed of secrets and signed URLs here, as the CLI's
 * logger does, before Powertools sees them.
 */
export function powertoolsLogger(logger: PowertoolsLogger): Logger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields: Record<string, unknown> = {}) =>
    logger[level]({ message: scrubSecrets(message), ...withoutReserved(redactFields(fields)) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Keys Powertools sets itself (it drops ours of the first five with a warning line; ours would hide its context); ours are kept with a `field_` prefix. */
const RESERVED = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp', 'xray_trace_id', 'cold_start', 'function_arn', 'function_memory_size', 'function_name', 'function_request_id']);

function withoutReserved(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[RESERVED.has(k) ? `field_${k}` : k] = v;
  return out;
}
