import type { ProgressStage } from '../shared/progress';
import type { RunProgress } from '../shared/run/run-progress';
import { scaleBytes } from '../shared/byte-units';

export type ProgressCounters = Record<ProgressStage, number>;

export const zeroCounters = (): ProgressCounters => ({ listed: 0, signed: 0, 'exported-files': 0, 'exported-bytes': 0 });

/**
 * What a progress line says, as fields: the same ones go into a JSON log line and are rendered
 * as text for people.
 */
export type ProgressReport =
  | { phase: 'listing'; listed: number; signed: number; submitted: number }
  | { phase: 'ingest'; ingested: number; expected: number; failed: number }
  | { phase: 'job'; stage: string; unit: 'tasks' | 'batches'; done: number; total: number; percent: number; etaSeconds?: number; stageNumber?: number; stages?: number }
  | { phase: 'job'; stage: 'starting' }
  | { phase: 'export'; results: number; resultsTotal?: number; files: number; bytes: number };

/**
 * The phase a run is in and its numbers: the process's own counters for listing, signing and
 * copying, and the last look at the run (record and target) for ingest and the job.
 */
export function progressReport(counters: ProgressCounters, live?: RunProgress): ProgressReport {
  const phase = live?.phase ?? (counters['exported-files'] > 0 ? 'exporting' : 'discovering');
  if (phase === 'ingesting' && live?.ingest) return { phase: 'ingest', ...live.ingest };
  if (phase === 'processing') {
    const job = live?.job;
    if (!job) return { phase: 'job', stage: 'starting' };
    return {
      phase: 'job',
      stage: job.stage,
      unit: job.unit,
      done: job.done,
      total: job.total,
      percent: Math.floor(job.fraction * 100),
      ...(job.etaSeconds === undefined ? {} : { etaSeconds: job.etaSeconds }),
      ...(job.stageNumber === undefined ? {} : { stageNumber: job.stageNumber, stages: job.stages }),
    };
  }
  if (phase === 'exporting' || live?.export) {
    return {
      phase: 'export',
      results: live?.export?.done ?? 0,
      ...(live?.export?.total === undefined ? {} : { resultsTotal: live.export.total }),
      files: Math.max(counters['exported-files'], live?.export?.files ?? 0),
      bytes: Math.max(counters['exported-bytes'], live?.export?.bytes ?? 0),
    };
  }
  return { phase: 'listing', listed: Math.max(counters.listed, live?.listed ?? 0), signed: counters.signed, submitted: live?.submitted ?? 0 };
}

/** The report as one line for people, e.g. `ingest: ingested 18,200 / 20,000 (91%) · 3 failed`. */
export function renderProgress(report: ProgressReport): string {
  switch (report.phase) {
    case 'listing':
      return `listing: ${count(report.listed)} listed · ${count(report.signed)} signed · ${count(report.submitted)} submitted`;
    case 'ingest':
      return `ingest: ingested ${count(report.ingested)} / ${count(report.expected)}${percentOf(report.ingested, report.expected)} · ${count(report.failed)} failed`;
    case 'job': {
      if (!('unit' in report)) return 'job: starting';
      const of = report.stageNumber !== undefined ? ` (stage ${report.stageNumber}/${report.stages})` : '';
      const eta = report.etaSeconds === undefined ? '' : ` · ETA ${formatDuration(report.etaSeconds)}`;
      return `job: ${report.stage}${of} · ${report.unit} ${count(report.done)} / ${count(report.total)} · ${report.percent}%${eta}`;
    }
    case 'export': {
      const of = report.resultsTotal === undefined ? '' : ` / ${count(report.resultsTotal)}`;
      return `export: result files ${count(report.results)}${of} · ${count(report.files)} files stored, ${formatBytes(report.bytes)}`;
    }
  }
}

/** 18200 → `18,200`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

function percentOf(part: number, whole: number): string {
  return whole > 0 ? ` (${Math.floor((part / whole) * 100)}%)` : '';
}

/** 42 → `42s`, 130 → `2m 10s`, 11100 → `3h 05m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatBytes(bytes: number): string {
  const { value, unit } = scaleBytes(bytes);
  return `${unit === 'B' ? value : value.toFixed(1)} ${unit}`;
}
