/** Time left for the checkpoint and the hand-on message when an invocation yields. */
export const YIELD_RESERVE_MS = 120_000;

/** Work that would have less time than this is handed on to a fresh invocation without starting. */
export const MIN_START_MS = 60_000;

/** `shouldYield` for long work: true once the invocation has less than `reserveMs` left. */
export function yieldWhenLow(context: { getRemainingTimeInMillis(): number }, reserveMs = YIELD_RESERVE_MS): () => boolean {
  return () => context.getRemainingTimeInMillis() < reserveMs;
}

/** How long a unit of work may still take in this invocation. */
export interface TimeBudget {
  /** Milliseconds left before the reserve kept for recording outcomes and handing work on. */
  left(): number;
  /** With less than this left, work is handed on instead of started. */
  minStartMs: number;
}

export interface BudgetSettings {
  reserveMs?: number;
  minStartMs?: number;
}

export function budgetOf(context: { getRemainingTimeInMillis(): number }, settings: BudgetSettings = {}): TimeBudget {
  const reserveMs = settings.reserveMs ?? YIELD_RESERVE_MS;
  return { left: () => context.getRemainingTimeInMillis() - reserveMs, minStartMs: settings.minStartMs ?? MIN_START_MS };
}

/** No invocation limit (the CLI, tests). */
export const UNLIMITED_BUDGET: TimeBudget = { left: () => Number.POSITIVE_INFINITY, minStartMs: 0 };
