/** Fault injection state: scripted HTTP failures for API requests plus webhook and file-processing quirks. */
import { codeForStatus, errorBody } from './http-io';
import type { ExtendEmulatorFaults } from './types';

export interface InjectedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

type Failure = NonNullable<ExtendEmulatorFaults['failures']>[number];

export class FaultInjector {
  private faults: ExtendEmulatorFaults = {};

  constructor(initial: ExtendEmulatorFaults = {}) {
    this.set(initial);
  }

  /** Replaces the current faults; the caller's objects are copied so their counts are not mutated. */
  set(faults: ExtendEmulatorFaults): void {
    const pattern = faults.failUrlsMatching;
    this.faults = {
      ...faults,
      failures: (faults.failures ?? []).map((f) => ({ ...f })),
      // Without g/y, test() keeps no lastIndex state between inputs.
      failUrlsMatching: pattern ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : undefined,
    };
  }

  get current(): Readonly<ExtendEmulatorFaults> {
    return this.faults;
  }

  /** Consumes one matching scripted failure for this request, if any. */
  take(method: string, path: string): InjectedResponse | undefined {
    const failure = this.faults.failures?.find((f) => f.count > 0 && matches(f, method, path));
    if (!failure) return undefined;
    failure.count -= 1;
    const headers: Record<string, string> = {};
    if (failure.status === 429 || failure.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(failure.retryAfterSeconds ?? 0);
    }
    const body = failure.body ?? errorBody(failure.status, codeForStatus(failure.status), `injected fault: HTTP ${failure.status}`);
    return { status: failure.status, headers, body };
  }

  /** Whether an input with this URL must fail as an unprocessable file. */
  failsUrl(url: string): boolean {
    return this.faults.failUrlsMatching?.test(url) ?? false;
  }
}

function matches(failure: Failure, method: string, path: string): boolean {
  return path.includes(failure.pathIncludes) && (failure.method === undefined || failure.method === method);
}
