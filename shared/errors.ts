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

/** A remote API answered with an error we must not retry (or retries ran out). */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
