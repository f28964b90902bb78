/** Time left for the checkpoint and the hand-on message when an invocation yields. */
export const YIELD_RESERVE_MS = 120_000;

/** `shouldYield` for long work: true once the invocation has less than `reserveMs` left. */
export function yieldWhenLow(context: { getRemainingTimeInMillis(): number }, reserveMs = YIELD_RESERVE_MS): () => boolean {
  return () => context.getRemainingTimeInMillis() < reserveMs;
}
