import type { Readable } from 'node:stream';
import { errors as undiciErrors, FormData, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { RemoteError } from '../errors';
import { scrubRemoteText } from '../scrub-secrets';
import { errorBodyHead } from './error-body-head';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, retryDelayMs, sleep, type RetryPolicy } from './retry-policy';

export interface JsonRequest<T extends z.ZodType> {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** JSON body; ignored when `form` or `stream` is given. */
  body?: unknown;
  form?: FormData;
  /**
   * A streamed body (e.g. a multipart upload of an object read from a bucket), opened afresh for
   * each attempt, since a consumed stream cannot be sent again.
   */
  stream?: () => Promise<{ body: Readable; contentType: string }>;
  schema: T;
  timeoutMs: number;
}

export interface JsonClientOptions {
  baseUrl: string;
  /** Query parameters sent on every call (e.g. api_key); never included in messages. */
  secretQuery?: Record<string, string>;
  /** Headers sent on every call (e.g. Authorization, API version); credentials among them never reach messages. */
  headers?: Record<string, string>;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
  /** What to call the remote service in error messages. */
  serviceName: string;
}

/**
 * JSON over HTTP with timeouts, bounded retries of transient failures, and zod validation of
 * every response. Only the path (never the query, which may carry keys) appears in errors.
 */
export class JsonClient {
  private readonly policy: RetryPolicy;

  constructor(private readonly options: JsonClientOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  async send<T extends z.ZodType>(req: JsonRequest<T>): Promise<z.infer<T>> {
    const url = this.url(req);
    const label = `${req.method} ${req.path}`;
    for (let attempt = 1; ; attempt++) {
      let failure: { reason: string; retryAfter?: string | null; status?: number };
      try {
        const body = await encodeBody(req);
        const res = await request(url, {
          method: req.method,
          body: body.body,
          headers: { ...this.options.headers, ...body.headers },
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
          dispatcher: this.options.dispatcher,
        });
        if (res.statusCode >= 200 && res.statusCode < 300) return this.parse(req, label, await res.body.text());
        const text = await errorBodyHead(res.body);
        const retryAfter = res.headers['retry-after'];
        failure = {
          reason: this.redact(`HTTP ${res.statusCode}${errorDetail(text)}`),
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          status: res.statusCode,
        };
        if (!RETRYABLE_STATUSES.has(res.statusCode)) {
          throw new RemoteError(`${this.options.serviceName} ${label} failed: ${failure.reason}`, res.statusCode);
        }
      } catch (err) {
        if (err instanceof RemoteError) throw err;
        failure = { reason: this.redact(networkReason(err)) };
      }
      if (attempt >= this.policy.maxAttempts) {
        throw new RemoteError(
          `${this.options.serviceName} ${label} failed after ${attempt} attempts: ${failure.reason}`,
          failure.status,
          true,
        );
      }
      const delayMs = retryDelayMs(this.policy, attempt, failure.retryAfter);
      this.options.onRetry?.({ path: req.path, attempt, delayMs, reason: failure.reason });
      await sleep(delayMs);
    }
  }

  /**
   * Servers may echo the request (URL, body) in an error: the text is scrubbed of every registered
   * secret and of this client's own credentials, and bounded, before it goes anywhere.
   */
  private redact(text: string): string {
    const secretHeaders = Object.entries(this.options.headers ?? {}).filter(([name]) => /authorization|key|token|secret/i.test(name));
    const own = [...Object.values(this.options.secretQuery ?? {}), ...secretHeaders.map(([, v]) => v.replace(/^Bearer /i, ''))];
    return scrubRemoteText(text, { also: own });
  }

  private url(req: JsonRequest<z.ZodType>): string {
    // Keep any path prefix of the base URL (e.g. a proxy at https://host/roboflow).
    const url = new URL(this.options.baseUrl.replace(/\/+$/, '') + req.path);
    for (const [k, v] of Object.entries({ ...this.options.secretQuery, ...req.query })) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  private parse<T extends z.ZodType>(req: JsonRequest<T>, label: string, text: string): z.infer<T> {
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new RemoteError(`${this.options.serviceName} ${label}: response is not JSON`);
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RemoteError(
        `${this.options.serviceName} ${label}: unexpected response (${issue.path.join('.') || '<root>'}: ${this.redact(issue.message)})`,
      );
    }
    return parsed.data;
  }
}

async function encodeBody(req: JsonRequest<z.ZodType>): Promise<{ headers: Record<string, string>; body?: string | FormData | Readable }> {
  if (req.stream) {
    const { body, contentType } = await req.stream();
    return { headers: { accept: 'application/json', 'content-type': contentType }, body };
  }
  if (req.form) return { headers: { accept: 'application/json' }, body: req.form };
  if (req.body === undefined) return { headers: { accept: 'application/json' } };
  return { headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(req.body) };
}

/** The service's own message when its error body has one, else the body; scrubbed before it is cut. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const detail = body.error ?? body.message ?? body.detail;
    if (typeof detail === 'string') return `: ${detail}`;
  } catch {
    // not JSON: fall through
  }
  return text ? `: ${text}` : '';
}

function networkReason(err: unknown): string {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return 'timed out';
  const code = (err as { code?: string }).code;
  return code ? `network error ${code}` : `network error: ${(err as Error).message}`;
}
