/** Fault injection state: scripted HTTP failures for API requests plus webhook and job quirks. */
import type { LlamaEmulatorFaults } from './types';

export interface InjectedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

type Failure = NonNullable<LlamaEmulatorFaults['failures']>[number];

export class FaultInjector {
  private faults: LlamaEmulatorFaults = {};

  constructor(initial: LlamaEmulatorFaults = {}) {
    this.set(initial);
  }

  /** Replaces the current faults; the caller's objects are copied so their counts are not mutated. */
  set(faults: LlamaEmulatorFaults): void {
    this.faults = { ...faults, failures: (faults.failures ?? []).map((f) => ({ ...f })) };
  }

  get current(): Readonly<LlamaEmulatorFaults> {
    return this.faults;
  }

  /** Consumes one matching scripted failure for this request, if any. */
  take(method: string, path: string): InjectedResponse | undefined {
    const failure = this.faults.failures?.find((f) => f.count > 0 && matches(f, method, path));
    if (!failure) return undefined;
    failure.count -= 1;
    const headers: Record<string, string> = {};
    if (failure.status === 429 || failure.status === 503) {
      headers['retry-after'] = String(failure.retryAfterSeconds ?? 0);
    }
    return {
      status: failure.status,
      headers,
      body: failure.body ?? { detail: `injected fault: HTTP ${failure.status}` },
    };
  }

  /** Whether a file with this display name should get a FAILED job. */
  failsFile(displayName: string): boolean {
    const pattern = this.faults.failFilesNamed;
    if (!pattern) return false;
    pattern.lastIndex = 0; // a /g or /y pattern must not depend on earlier tests
    return pattern.test(displayName);
  }
}

function matches(failure: Failure, method: string, path: string): boolean {
  return path.includes(failure.pathIncludes) && (failure.method === undefined || failure.method === method);
}
