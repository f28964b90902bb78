import type { TaskScope } from './task-scope';

const DELIVERY_TIMEOUT_MS = 5000;

/**
 * One webhook delivery attempt: POSTs the raw body (redirects are not followed) and answers the
 * receiver's status, or 'error' when it could not be reached in time. The body of the answer is
 * dropped. Bound to the emulator's scope, so closing the emulator ends it.
 */
export async function postWebhook(scope: TaskScope, url: string, headers: Record<string, string>, rawBody: string): Promise<number | 'error'> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body: rawBody, redirect: 'manual', signal: scope.timeoutSignal(DELIVERY_TIMEOUT_MS) });
    await res.body?.cancel().catch(() => {});
    return res.status;
  } catch {
    return 'error';
  }
}
