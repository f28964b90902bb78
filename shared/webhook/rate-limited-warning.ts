import type { Logger } from '../log';

/** Logs `message` at most once every `everyMs`, with how many times it happened since. */
export function rateLimitedWarning(log: Logger, message: string, everyMs: number): (fields: Record<string, unknown>) => void {
  let last = -Infinity;
  let since = 0;
  return (fields) => {
    since++;
    if (performance.now() - last < everyMs) return;
    log.warn(message, { ...fields, occurrences: since });
    last = performance.now();
    since = 0;
  };
}
