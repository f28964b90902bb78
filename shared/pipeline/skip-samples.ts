/**
 * The run report names the objects a run skipped, but a run may skip millions: the run record keeps
 * only the first keys of each reason (the counts stay exact), so it stays small enough for a
 * DynamoDB item whatever the listing holds (at most 5 reasons x 10 keys x 1,024 bytes).
 */
export const SKIPPED_KEYS_KEPT = 10;

/** Adds `key` to the reason's samples while it has fewer than {@link SKIPPED_KEYS_KEPT}. */
export function keepSkippedKey(samples: Record<string, string[]>, reason: string, key: string): void {
  const kept = (samples[reason] ??= []);
  if (kept.length < SKIPPED_KEYS_KEPT && !kept.includes(key)) kept.push(key);
}

export function copySkippedKeys(samples: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(samples).map(([reason, keys]) => [reason, [...keys]]));
}
