/**
 * Signed webhooks carry the time they were sent; a signed body older than this is a replay. It is
 * the Extend SDK's default `maxAgeSeconds` (Extend does not publish its retry schedule); LlamaCloud's
 * retries (3 attempts, at most 60 s apart) fall well within it.
 */
export const MAX_EVENT_AGE_SECONDS = 300;
/** Clocks differ a little: a send time up to this far ahead is accepted. */
export const MAX_FUTURE_SECONDS = 60;

/** True when a webhook sent at `sentAtSeconds` (Unix seconds) may be taken at `nowSeconds`. */
export function withinReplayWindow(sentAtSeconds: number, nowSeconds = Date.now() / 1000, maxAgeSeconds = MAX_EVENT_AGE_SECONDS): boolean {
  const age = nowSeconds - sentAtSeconds;
  return Number.isFinite(age) && age <= maxAgeSeconds && age >= -MAX_FUTURE_SECONDS;
}
