/** Roboflow's fault state: scripted HTTP failures answer `{"error": …}`; 429 and 503 carry `Retry-After`. */
import { ScriptedFaultInjector } from '../emulator-kit/scripted-failures';
import type { EmulatorFaults } from './types';

export class FaultInjector extends ScriptedFaultInjector<EmulatorFaults> {
  constructor(initial?: EmulatorFaults) {
    super(
      {
        defaultBody: (_status, message) => ({ error: message }),
        sendsRetryAfter: (failure) => failure.status === 429 || failure.status === 503,
      },
      initial,
    );
  }
}
