/**
 * Fault state of one emulator instance. The shared part is the scripted HTTP failures: the next `count`
 * API requests matching a path (and method) are answered with a chosen status instead of being served.
 */

export interface ScriptedFailure {
  /** Matches every request whose path contains this. */
  pathIncludes: string;
  /** Matches any method when omitted. */
  method?: 'GET' | 'POST' | 'PUT';
  status: number;
  count: number;
  /** Matching requests served normally before the failures start (default 0). */
  after?: number;
  retryAfterSeconds?: number;
  body?: unknown;
  /**
   * The answer's message quotes the request, as a server that echoes its input does: the JSON body,
   * escaped the way Go's encoder does it (`&`, `<`, `>` as `\u0026`, `\u003c`, `\u003e`), then the
   * request target with its whole query (credentials included). Ignored when `body` is given.
   */
  echoRequest?: boolean;
}

/** What an injected failure may quote of the request it answers. */
export interface FailedRequest {
  /** The request target as sent: path and query. */
  target: string;
  body: unknown;
}

export interface InjectedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** What an injected failure looks like where the script leaves it open; it differs per emulated API. */
export interface FailureStyle {
  defaultBody(status: number, message: string): unknown;
  /** Whether the answer carries `Retry-After` (`retryAfterSeconds`, default 0). */
  sendsRetryAfter(failure: ScriptedFailure): boolean;
}

export class ScriptedFaultInjector<F extends { failures?: ScriptedFailure[] }> {
  private faults = {} as F;

  constructor(
    private readonly style: FailureStyle,
    initial: F = {} as F,
  ) {
    this.set(initial);
  }

  /** Replaces the current faults; the caller's failures are copied so their counts are not mutated. */
  set(faults: F): void {
    this.faults = { ...faults, failures: (faults.failures ?? []).map((f) => ({ ...f })) };
  }

  get current(): Readonly<F> {
    return this.faults;
  }

  /** Consumes one matching scripted failure for this request, if any. */
  take(method: string, path: string, request?: FailedRequest): InjectedResponse | undefined {
    const failure = this.faults.failures?.find((f) => f.count > 0 && matches(f, method, path));
    if (!failure) return undefined;
    if (failure.after) {
      failure.after -= 1;
      return undefined;
    }
    failure.count -= 1;
    const headers: Record<string, string> = {};
    if (this.style.sendsRetryAfter(failure)) headers['retry-after'] = String(failure.retryAfterSeconds ?? 0);
    const message = failure.echoRequest && request ? `invalid request body ${goJson(request.body)} for ${method} ${request.target}` : `injected fault: HTTP ${failure.status}`;
    const body = failure.body ?? this.style.defaultBody(failure.status, message);
    return { status: failure.status, headers, body };
  }
}

function matches(failure: ScriptedFailure, method: string, path: string): boolean {
  return path.includes(failure.pathIncludes) && (failure.method === undefined || failure.method === method);
}

function goJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}
