/** LlamaCloud's fault state: scripted HTTP failures answer `{"detail": …}`, plus webhook and job quirks. */
import { ScriptedFaultInjector } from '../emulator-kit/scripted-failures';
import type { LlamaEmulatorFaults } from './types';

export class FaultInjector extends ScriptedFaultInjector<LlamaEmulatorFaults> {
  constructor(initial?: LlamaEmulatorFaults) {
    super(
      {
        defaultBody: (_status, message) => ({ detail: message }),
        sendsRetryAfter: (failure) => failure.status === 429 || failure.status === 503,
      },
      initial,
    );
  }

  /** Whether a file with this display name should get a FAILED job. */
  failsFile(displayName: string): boolean {
    const pattern = this.current.failFilesNamed;
    if (!pattern) return false;
    pattern.lastIndex = 0; // a /g or /y pattern must not depend on earlier tests
    return pattern.test(displayName);
  }
}
