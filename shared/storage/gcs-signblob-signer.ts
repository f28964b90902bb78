import { errors as undiciErrors, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { RemoteError } from '../errors';
import { DEFAULT_RETRY_POLICY, retryDelayMs, sleep, type RetryPolicy } from '../http/retry-policy';
import type { BlobSigner } from './gcs-v4-signer';

export const DEFAULT_IAM_CREDENTIALS_URL = 'https://iamcredentials.googleapis.com';
export const DEFAULT_SIGN_BLOB_CONCURRENCY = 16;

/** signBlob answers worth another try: throttling, timeouts and server-side failures. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

const SignBlobResponse = z.object({ keyId: z.string().optional(), signedBlob: z.string().min(1) });

export interface SignBlobOptions {
  /** The service account to sign as (needs `iam.serviceAccounts.signBlob` for the caller on it). */
  serviceAccount: string;
  /** An OAuth access token of the caller (Application Default Credentials, workload identity, …). */
  accessToken: () => Promise<string>;
  /** IAM Credentials API base URL. @default https://iamcredentials.googleapis.com */
  baseUrl?: string;
  /** Calls in flight at most, across every URL this signer signs. @default 16 */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout. @default 30 s */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

/** A counting semaphore: at most `limit` holders at a time, the rest wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency must be a positive whole number, got ${limit}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter, so `active` never overshoots the limit.
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Keyless signing through the IAM Credentials API:
 * `POST {baseUrl}/v1/projects/-/serviceAccounts/{email}:signBlob` with `{"payload": base64}` →
 * `{"keyId","signedBlob"}`. Every signed URL is one network call, so calls share one bounded pool
 * (`concurrency`) and are retried on 408/429/5xx and network errors with exponential backoff and
 * full jitter, honouring `Retry-After`. A slot is held while backing off, so throttling slows
 * the whole pool down instead of letting other calls pile on.
 */
export class SignBlobSigner implements BlobSigner {
  readonly email: string;
  private readonly pool: Semaphore;
  private readonly policy: RetryPolicy;
  private readonly url: string;

  constructor(private readonly options: SignBlobOptions) {
    this.email = options.serviceAccount;
    this.pool = new Semaphore(options.concurrency ?? DEFAULT_SIGN_BLOB_CONCURRENCY);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    const base = (options.baseUrl ?? DEFAULT_IAM_CREDENTIALS_URL).replace(/\/+$/, '');
    this.url = `${base}/v1/projects/-/serviceAccounts/${options.serviceAccount}:signBlob`;
  }

  sign(blob: Buffer): Promise<Buffer> {
    return this.pool.run(() => this.call(blob));
  }

  private async call(blob: Buffer): Promise<Buffer> {
    const body = JSON.stringify({ payload: blob.toString('base64') });
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let retryAfter: string | undefined;
      let status: number | undefined;
      // A token that cannot be had is a configuration problem, not a transient one: no retry here
      // (the auth library retries its own token endpoint).
      const token = await this.options.accessToken();
      try {
        const res = await request(this.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          dispatcher: this.options.dispatcher,
        });
        const text = await res.body.text();
        status = res.statusCode;
        if (status >= 200 && status < 300) return this.parse(text);
        reason = `HTTP ${status}${googleErrorDetail(text)}`;
        const header = res.headers['retry-after'];
        retryAfter = Array.isArray(header) ? header[0] : header;
        if (!RETRYABLE.has(status)) {
          const hint = status === 401 || status === 403
            ? ` (the caller needs roles/iam.serviceAccountTokenCreator on ${this.email}, and the IAM Credentials API must be enabled)`
            : '';
          throw new RemoteError(`IAM signBlob as ${this.email} failed: ${reason}${hint}`, status);
        }
      } catch (err) {
        if (err instanceof RemoteError) throw err;
        reason = networkReason(err);
      }
      if (attempt >= this.policy.maxAttempts) {
        throw new RemoteError(`IAM signBlob as ${this.email} failed after ${attempt} attempts: ${reason}`, status, true);
      }
      const delayMs = retryDelayMs(this.policy, attempt, retryAfter);
      this.options.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs);
    }
  }

  private parse(text: string): Buffer {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RemoteError(`IAM signBlob as ${this.email}: response is not JSON`);
    }
    const parsed = SignBlobResponse.safeParse(json);
    if (!parsed.success) throw new RemoteError(`IAM signBlob as ${this.email}: response has no signedBlob`);
    return Buffer.from(parsed.data.signedBlob, 'base64');
  }
}

/** `{"error":{"code":403,"message":"…","status":"PERMISSION_DENIED"}}` → `: …`. */
function googleErrorDetail(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return `: ${message.slice(0, 300)}`;
  } catch {
    // not JSON
  }
  return '';
}

function networkReason(err: unknown): string {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return 'timed out';
  const code = (err as { code?: string }).code;
  return code ? `network error ${code}` : `network error: ${(err as Error).message}`;
}
