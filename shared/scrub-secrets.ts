import { z } from 'zod';

/**
 * Scrubbing of text that comes from outside (remote error messages, per-file failure reasons) and
 * of what the logger writes. Remote services may quote the request they refused, and a request
 * carries credentials: API keys, the webhook path token inside notification URLs, webhook signing
 * secrets in request bodies, signed URLs. Secrets the process knows are registered once where
 * they are read (configuration and wiring); every remote message is scrubbed of them, and of
 * anything that looks like a signature-bearing query or credential field, before it is logged,
 * stored or written, and is cut to a bounded length.
 */

/** Longest remote message kept, in characters (longer ones are cut and end in a marker saying how much was cut). */
export const REMOTE_TEXT_MAX_CHARS = 500;
/** What a scrubbed secret reads as. */
export const REDACTED = '[redacted]';
/** Shorter values are not registered: they would match ordinary words, and no real key is that short. */
export const MIN_SECRET_CHARS = 8;

/** The secrets one process knows. */
export class SecretRegistry {
  private readonly secrets = new Set<string>();
  private matchers: RegExp[] | undefined;

  /** Registers values to scrub; empty, missing and too-short values are ignored. */
  add(...values: Array<string | undefined | null>): void {
    for (const value of values) {
      const secret = value?.trim();
      if (!secret || secret.length < MIN_SECRET_CHARS || this.secrets.has(secret)) continue;
      this.secrets.add(secret);
      this.matchers = undefined;
    }
  }

  /** One pattern per secret, matching it in any of the encodings a message may carry it in. */
  patterns(): readonly RegExp[] {
    this.matchers ??= [...this.secrets].map(secretPattern);
    return this.matchers;
  }
}

/** The process-wide registry: the CLI and the Lambda runtime register their secrets here. */
export const processSecrets = new SecretRegistry();

/** Registers secrets the process knows (API keys, the webhook path token, signing secrets). */
export function registerSecrets(...values: Array<string | undefined | null>): void {
  processSecrets.add(...values);
}

export interface ScrubOptions {
  /** Secrets known to the caller only (e.g. a client's own credentials), scrubbed in addition to the registered ones. */
  also?: Iterable<string | undefined>;
  registry?: SecretRegistry;
}

/** Removes every known secret and every credential-shaped value from a text; nothing is cut. */
export function scrubSecrets(text: string, options: ScrubOptions = {}): string {
  const registry = options.registry ?? processSecrets;
  const extra = [...(options.also ?? [])].filter((s): s is string => s !== undefined && s.trim().length >= MIN_SECRET_CHARS).map((s) => secretPattern(s.trim()));
  let out = replaceSpans(text, [...registry.patterns(), ...extra]);
  for (const [pattern, replacement] of CREDENTIAL_SHAPES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A remote message made safe to log, store and write: secrets scrubbed, control characters (ANSI
 * escapes, carriage returns) turned into spaces, then cut to `maxChars` (default
 * {@link REMOTE_TEXT_MAX_CHARS}). Scrubbing comes first, so a cut can never leave the start of a secret.
 */
export function scrubRemoteText(text: string, options: ScrubOptions & { maxChars?: number } = {}): string {
  return bounded(scrubSecrets(text, options).replace(CONTROL_CHARS, ' '), options.maxChars ?? REMOTE_TEXT_MAX_CHARS);
}

/** Every string inside a remote JSON value scrubbed and bounded (for free-form remote objects). */
export function scrubRemoteValue(value: unknown): unknown {
  return mapStrings(value, (text) => scrubRemoteText(text));
}

/** Every string inside a value scrubbed of secrets, nothing cut (for log fields). */
export function scrubSecretsIn(value: unknown): unknown {
  return mapStrings(value, (text) => scrubSecrets(text));
}

const MAX_DEPTH = 8;

function mapStrings(value: unknown, map: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return map(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map, depth + 1));
  if (value instanceof Error) return map(value.message);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map, depth + 1)]));
}

/** A remote free-text field: scrubbed and bounded as it is parsed, so no raw copy travels further. */
export const RemoteText = z.string().transform((text) => scrubRemoteText(text));
/** A remote free-form value (e.g. a notification object): every string in it scrubbed and bounded. */
export const RemoteValue = z.unknown().transform((value) => scrubRemoteValue(value));

const TRUNCATED = (cut: number) => `… [${cut} more characters]`;

function bounded(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // The marker is part of the bound; its width depends on the number it shows.
  let keep = maxChars - TRUNCATED(text.length).length;
  if (keep > 0 && /[\uD800-\uDBFF]/.test(text[keep - 1]!)) keep -= 1; // never split a surrogate pair
  return text.slice(0, Math.max(0, keep)) + TRUNCATED(text.length - Math.max(0, keep));
}

/** Replaces the union of every match of every pattern, so overlapping secrets leave nothing of either. */
function replaceSpans(text: string, patterns: readonly RegExp[]): string {
  const spans: Array<[number, number]> = [];
  for (const pattern of patterns) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      spans.push([m.index, m.index + m[0].length]);
      pattern.lastIndex = m.index + 1; // a secret may overlap its own next occurrence
    }
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  let [start, end] = spans[0]!;
  for (const [s, e] of spans.slice(1)) {
    if (s <= end) end = Math.max(end, e);
    else {
      out += text.slice(at, start) + REDACTED;
      at = end;
      [start, end] = [s, e];
    }
  }
  return out + text.slice(at, start) + REDACTED + text.slice(end);
}

/**
 * A secret as it may appear in a message: as is, percent-encoded (once or more, hex in either
 * case, `+` for a space), or JSON-escaped (once or more, `\/`, `\uXXXX`). Letters and digits are
 * the same in every form; every other character may take any of its forms.
 */
function secretPattern(secret: string): RegExp {
  const parts = [...secret].map((c) => {
    if (/[A-Za-z0-9]/.test(c)) return c;
    const code = c.codePointAt(0)!;
    if (code > 0x7f) return `(?:${escapeRegExp(c)}|(?:%(?:25)*[0-9A-Fa-f]{2})+|\\\\*u${hexCase(code.toString(16).padStart(4, '0'))})`;
    const hex = hexCase(code.toString(16).padStart(2, '0'));
    const forms = [`\\\\*${escapeRegExp(c)}`, `%(?:25)*${hex}`, `\\\\*u00${hex}`];
    if (c === ' ') forms.push('\\+');
    return `(?:${forms.join('|')})`;
  });
  return new RegExp(parts.join(''), 'g');
}

function hexCase(hex: string): string {
  return [...hex].map((d) => (/[a-f]/i.test(d) ? `[${d.toLowerCase()}${d.toUpperCase()}]` : d)).join('');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Query separators in any encoding (raw, percent-encoded, JSON-escaped, HTML). */
const SEP = String.raw`(?:[?&;]|%(?:25)*(?:26|3[fF])|\\*u0026|&amp;)`;
/** `=` in any encoding. */
const EQ = String.raw`(?:=|%(?:25)*3[dD]|\\*u003[dD])`;
/** A query value: up to the next separator, quote, space or escape (a JSON-escaped `\/` stays inside). */
const VALUE = String.raw`(?:\[redacted\]|\\+\/|(?!%(?:25)*26|&amp;)[^&\s"'<>\\#,;)}\]])+`;
/** Query parameters and fields whose value is a credential. */
const SECRET_NAME = String.raw`(?:x-(?:amz|goog)-(?:signature|credential|security-token)|signature|sig|awsaccesskeyid|googleaccessid|[a-z_-]*token|[a-z_-]*secret|api[_-]?key|access[_-]?key(?:[_-]?id)?|client[_-]?secret|password|passwd|authorization)`;

/**
 * Credential-shaped values, whoever they belong to: signature-bearing query parameters (SigV4,
 * GCS V4, SigV2 and V2 GCS URLs, `sig=`, `token=`, `api_key=` …), JSON fields named like
 * credentials, Authorization header values, AWS access key ids, and webhook path tokens.
 */
const CREDENTIAL_SHAPES: Array<[RegExp, string]> = [
  // ?X-Amz-Signature=…, &sig=…, %26token%3D…, \u0026api_key=…
  [new RegExp(String.raw`((?:^|${SEP}|(?<![A-Za-z0-9_.-]))${SECRET_NAME}${EQ})${VALUE}`, 'gi'), `$1${REDACTED}`],
  // "webhook_signing_secret": "…", \"api_key\":\"…\", 'token': '…'
  [new RegExp(String.raw`((\\*["'])${SECRET_NAME}\2\s*:\s*(\\*["']))(?:(?!\3).)*?\3`, 'gi'), `$1${REDACTED}$3`],
  // Authorization: Bearer …, Basic …
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // AWS access key ids (long-term AKIA…, temporary ASIA…)
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  // The bridge's webhook path (/webhooks/<token>), also with escaped or encoded slashes
  [/(\/webhooks(?:\\?\/|%(?:25)*2[fF]))[A-Za-z0-9_-]{16,}/g, `$1${REDACTED}`],
];

// C0 controls except tab and newline, DEL and C1 controls (ANSI escapes start with ESC or CSI).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
