import { RemoteError } from '../errors';
import type { AccessProblem } from './port';

/** Statuses that mean the service refused the credential itself (not the request, not a passing fault). */
const KEY_REFUSED = new Set([401, 403]);

/**
 * Runs one authenticated read; a refused key becomes an access problem, anything else (a
 * transient failure that outlived its retries, an unexpected answer) is thrown as it is.
 */
export async function keyAccepted(service: string, read: () => Promise<unknown>): Promise<AccessProblem | undefined> {
  try {
    await read();
    return undefined;
  } catch (err) {
    const problem = refusedKey(service, err);
    if (problem) return problem;
    throw err;
  }
}

/** The access problem a refused key (401/403) stands for, else undefined. */
function refusedKey(service: string, err: unknown): AccessProblem | undefined {
  if (!(err instanceof RemoteError) || err.status === undefined || !KEY_REFUSED.has(err.status)) return undefined;
  return { setting: 'api-key', expected: `an API key ${service} accepts (it answered HTTP ${err.status})` };
}
