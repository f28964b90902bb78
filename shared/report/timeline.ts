/** The phases of a run, read from its summary's timings (ISO timestamps by mark name). */

export interface Phase {
  name: string;
  start: string;
  end: string;
  seconds: number;
}

/** What the run does from each mark until the next one. */
const PHASE_AFTER: Record<string, string> = {
  createdAt: 'list, sign, submit',
  submittedAt: 'ingest',
  jobStartedAt: 'job',
  jobFinishedAt: 'export',
};

/**
 * Consecutive marks in time order become phases named after their starting mark; the last mark
 * (`finishedAt`) only ends the one before it. Marks that are not timestamps are left out, and a
 * mark the report does not know names its phase by itself.
 */
export function phasesOf(timings: Record<string, string>): Phase[] {
  const marks = Object.entries(timings)
    .map(([mark, at]) => ({ mark, at, ms: Date.parse(at) }))
    .filter((m) => Number.isFinite(m.ms))
    .sort((a, b) => a.ms - b.ms);
  const phases: Phase[] = [];
  for (let i = 0; i + 1 < marks.length; i++) {
    const from = marks[i]!;
    const to = marks[i + 1]!;
    phases.push({ name: PHASE_AFTER[from.mark] ?? from.mark, start: from.at, end: to.at, seconds: (to.ms - from.ms) / 1000 });
  }
  return phases;
}
