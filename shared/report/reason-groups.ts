import { scrubRemoteText } from '../scrub-secrets';
import type { FileFailure } from '../state/run-record';

/** Keys the report shows per skip or failure reason; the rest are counted ("… and M more"). */
export const REPORT_KEYS_PER_REASON = 50;
/** Distinct failure reasons the report lists apart; further ones are shown together as one. */
export const REPORT_MAX_REASONS = 20;
/** The group that collects failures past {@link REPORT_MAX_REASONS} distinct reasons. */
export const OTHER_REASONS = 'other reasons';

/** Objects that share a reason: how many there are, and the first few with their detail. */
export interface ReasonGroup {
  /** `not-media` for a skip; `<stage>: <type>` for a failure (`ingest: file-download-failed`). */
  reason: string;
  total: number;
  items: Array<{ key: string; detail?: string }>;
}

/**
 * Groups a run's failures by stage and type, reading them once as a stream: memory holds at most
 * {@link REPORT_KEYS_PER_REASON} failures for each of at most {@link REPORT_MAX_REASONS} + 1 groups,
 * however many failures the run has. Groups come largest first.
 */
export async function groupFailures(failures: AsyncIterable<FileFailure>, keysPerReason = REPORT_KEYS_PER_REASON): Promise<ReasonGroup[]> {
  const groups = new Map<string, ReasonGroup>();
  for await (const f of failures) {
    let reason = `${f.stage}: ${f.type}`;
    if (!groups.has(reason) && groups.size >= REPORT_MAX_REASONS) reason = OTHER_REASONS;
    let group = groups.get(reason);
    if (!group) groups.set(reason, (group = { reason, total: 0, items: [] }));
    group.total++;
    // Reasons were scrubbed where they came in; scrubbed again here, as the page may be shared.
    if (group.items.length < keysPerReason) group.items.push({ key: f.key ?? f.name, detail: scrubRemoteText(f.reason) });
  }
  return [...groups.values()].sort((a, b) => b.total - a.total || a.reason.localeCompare(b.reason));
}

/** The skip reasons with their exact counts and the keys the run record kept for each. */
export function skippedGroups(counts: Record<string, number>, keys: Record<string, string[]> = {}): ReasonGroup[] {
  return Object.entries(counts)
    .filter(([, total]) => total > 0)
    .map(([reason, total]) => ({ reason, total, items: (keys[reason] ?? []).map((key) => ({ key })) }))
    .sort((a, b) => b.total - a.total || a.reason.localeCompare(b.reason));
}
