/** Extend's fault state: scripted HTTP failures with Extend error bodies, plus webhook and file-processing quirks. */
import { ScriptedFaultInjector } from '../emulator-kit/scripted-failures';
import { codeForStatus, errorBody } from './http-io';
import type { ExtendEmulatorFaults } from './types';

export class FaultInjector extends ScriptedFaultInjector<ExtendEmulatorFaults> {
  constructor(initial?: ExtendEmulatorFaults) {
    super(
      {
        defaultBody: (status, message) => errorBody(status, codeForStatus(status), message),
        sendsRetryAfter: (failure) => failure.status === 429 || failure.retryAfterSeconds !== undefined,
      },
      initial,
    );
  }

  override set(faults: ExtendEmulatorFaults): void {
    const pattern = faults.failUrlsMatching;
    super.set({
      ...faults,
      // Without g/y, test() keeps no lastIndex state between inputs.
      failUrlsMatching: pattern ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : undefined,
    });
  }

  /** Whether an input with this URL must fail as an unprocessable file. */
  failsUrl(url: string): boolean {
    return this.current.failUrlsMatching?.test(url) ?? false;
  }
}
