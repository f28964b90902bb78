/** Roboflow's fault state: scripted HTTP failures answer `{"error": …}`; 429 and 503 carry `Retry-After`. */
import { ScriptedFaultInjector } from '../emulator-kit/scripted-failures';
import type { EmulatorFaults } from './types';

export class FaultInjector extends ScriptedFaultInjector<EmulatorFaults> {
  private lostJobStartAnswers = 0;

  constructor(initial?: EmulatorFaults) {
    super(
      {
        defaultBody: (_status, message) => ({ error: message }),
        sendsRetryAfter: (failure) => failure.status === 429 || failure.status === 503,
      },
      initial,
    );
    // The base constructor's set() ran before this class's fields were initialised.
    this.lostJobStartAnswers = initial?.lostJobStartAnswers ?? 0;
  }

  override set(faults: EmulatorFaults): void {
    super.set(faults);
    this.lostJobStartAnswers = faults.lostJobStartAnswers ?? 0;
  }

  /** Consumes one lost answer of a job POST, if any are scripted. */
  takeLostJobStartAnswer(): boolean {
    if (this.lostJobStartAnswers <= 0) return false;
    this.lostJobStartAnswers -= 1;
    return true;
  }
}
