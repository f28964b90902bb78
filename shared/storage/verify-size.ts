import { RemoteError } from '../errors';

/** The stored object must hold every byte sent (and as many as the caller expected, when it knows). */
export function verifyStoredSize(location: string, stored: number | undefined, sent: number, expected?: number): number {
  if (stored === sent && (expected === undefined || stored === expected)) return stored;
  throw new RemoteError(`${location}: stored ${stored} bytes, sent ${sent}` + (expected === undefined ? '' : `, expected ${expected}`));
}
