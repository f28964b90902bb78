import { scrubSecrets, scrubSecretsIn } from './scrub-secrets';

/** Structured logger port; the CLI prints lines, Lambda handlers plug in Powertools. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/**
 * One JSON object per line on stderr, so stdout stays free for command output. Every line is
 * scrubbed of registered secrets and credential-shaped values, whatever its caller did.
 */
export function jsonLogger(minLevel: Level = 'info', write: (line: string) => unknown = (line) => process.stderr.write(line + '\n')): Logger {
  const threshold = LEVELS.indexOf(minLevel);
  const at = (level: Level) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS.indexOf(level) < threshold) return;
    write(JSON.stringify({ level, time: new Date().toISOString(), message: scrubSecrets(message), ...redactFields(fields) }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Drops the query string (signatures, api keys) from anything that looks like a URL. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?<redacted>`;
}

function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = typeof v === 'string' && /^https?:\/\//.test(v) ? scrubSecrets(redactUrl(v)) : scrubSecretsIn(v);
  return out;
}
