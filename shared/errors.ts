import { scrubSecrets } from './scrub-secrets';

/** Bad user input: names the field and what was expected, so the message can be acted on. */
export class InputError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly received?: string,
  ) {
    super(`${field}: expected ${expected}${received === undefined ? '' : `, got ${JSON.stringify(received)}`}`);
    this.name = 'InputError';
  }
}

/**
 * A remote API answered with an error we must not retry (or retries ran out). Its message is
 * scrubbed of secrets however it was built: it becomes run errors, failure reasons and log lines.
 */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(scrubSecrets(message));
    this.name = 'RemoteError';
  }
}

/** An error as text for people (a run's error, a failure reason, stderr): scrubbed of secrets, whatever threw it. */
export function errorMessage(err: unknown): string {
  return scrubSecrets(err instanceof Error ? err.message : String(err));
}
