import { scrubSecrets, scrubSecretsIn } from './scrub-secrets';

/** Structured logger port; the CLI writes text or JSON lines to stderr (createLogger), the Lambda functions JSON lines to stdout (runtime/powertools-logger). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

/** `json` for machines (one object per line), `text` for people; the same fields either way. */
export type LogFormat = 'json' | 'text';

/** One log line's fields: level, time, message, then the caller's fields, all scrubbed of secrets. */
export type LogRecord = { level: Level; time: string; message: string } & Record<string, unknown>;

/**
 * A logger writing one line per record on stderr by default, so stdout stays free for command
 * output. Every line is scrubbed of registered secrets and credential-shaped values, whatever its
 * caller did, in either format.
 */
export function createLogger(format: LogFormat, minLevel: Level = 'info', write: (line: string) => unknown = (line) => process.stderr.write(line + '\n')): Logger {
  const threshold = LEVELS.indexOf(minLevel);
  const render = format === 'json' ? (r: LogRecord) => JSON.stringify(r) : formatText;
  const at = (level: Level) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS.indexOf(level) < threshold) return;
    write(render({ level, time: new Date().toISOString(), message: scrubSecrets(message), ...redactFields(fields) }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** One JSON object per line (see createLogger). */
export function jsonLogger(minLevel: Level = 'info', write?: (line: string) => unknown): Logger {
  return createLogger('json', minLevel, write);
}

/**
 * A record as a line for people: `21:40:12 WARN  message  key=value key2="two words"` (UTC time of
 * day; strings with spaces or quotes are JSON-quoted, other values JSON).
 */
export function formatText(record: LogRecord): string {
  const { level, time, message, ...fields } = record;
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`)
    .join(' ');
  return `${time.slice(11, 19)} ${level.toUpperCase().padEnd(5)} ${message}${rest ? `  ${rest}` : ''}`;
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** Drops the query string (signatures, api keys) from anything that looks like a URL. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?<redacted>`;
}

/** A record's fields, scrubbed: URLs lose their query string, registered secrets and credential-shaped values are redacted. */
export function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = typeof v === 'string' && /^https?:\/\//.test(v) ? scrubSecrets(redactUrl(v)) : scrubSecretsIn(v);
  return out;
}
