import { describe, expect, it } from 'vitest';
import { formatDuration, progressReport, renderProgress, zeroCounters } from '../../cli/progress-line';
import { etaSeconds } from '../../shared/progress';
import type { RunProgress } from '../../shared/run/run-progress';

const base = (phase: RunProgress['phase'], more: Partial<RunProgress> = {}): RunProgress => ({ phase, listed: 20_400, submitted: 20_000, ...more });

describe('progress lines', () => {
  it('listing: objects listed and signed by this process, submitted from the run record', () => {
    const counters = { ...zeroCounters(), listed: 1234, signed: 1200 };
    const report = progressReport(counters, base('discovering', { listed: 1000, submitted: 1000 }));
    expect(report).toEqual({ phase: 'listing', listed: 1234, signed: 1200, submitted: 1000 });
    expect(renderProgress(report)).toBe('listing: 1,234 listed · 1,200 signed · 1,000 submitted');
    expect(renderProgress(progressReport(counters))).toBe('listing: 1,234 listed · 1,200 signed · 0 submitted');
  });

  it('ingest: ingested of expected, with the percentage and the files failed so far', () => {
    const report = progressReport(zeroCounters(), base('ingesting', { ingest: { ingested: 18_200, expected: 20_000, failed: 3 } }));
    expect(report).toEqual({ phase: 'ingest', ingested: 18_200, expected: 20_000, failed: 3 });
    expect(renderProgress(report)).toBe('ingest: ingested 18,200 / 20,000 (91%) · 3 failed');
  });

  it('job: stage, its place in the plan, tasks done of total, percent from the tasks\' progress, and the ETA', () => {
    const job = { stage: 'processing', unit: 'tasks' as const, done: 3, total: 8, fraction: 0.4262, startedAt: '2026-12-04T10:00:00.000Z', stageNumber: 1, stages: 2, etaSeconds: 130 };
    const report = progressReport(zeroCounters(), base('processing', { job }));
    expect(report).toEqual({ phase: 'job', stage: 'processing', unit: 'tasks', done: 3, total: 8, percent: 42, etaSeconds: 130, stageNumber: 1, stages: 2 });
    expect(renderProgress(report)).toBe('job: processing (stage 1/2) · tasks 3 / 8 · 42% · ETA 2m 10s');
    const batches = progressReport(zeroCounters(), base('processing', { job: { stage: 'batches', unit: 'batches', done: 1, total: 4, fraction: 0.25 } }));
    expect(renderProgress(batches)).toBe('job: batches · batches 1 / 4 · 25%');
    expect(renderProgress(progressReport(zeroCounters(), base('processing')))).toBe('job: starting');
  });

  it('export: result files done, of the total once the listing was read, and the files and bytes stored', () => {
    const counters = { ...zeroCounters(), 'exported-files': 41, 'exported-bytes': 1_258_291 };
    const going = progressReport(counters, base('exporting', { export: { done: 3, files: 30, bytes: 1000 } }));
    expect(going).toEqual({ phase: 'export', results: 3, files: 41, bytes: 1_258_291 });
    expect(renderProgress(going)).toBe('export: result files 3 · 41 files stored, 1.2 MiB');
    const known = progressReport(zeroCounters(), base('completed', { export: { done: 5, total: 5, files: 50, bytes: 2048 } }));
    expect(renderProgress(known)).toBe('export: result files 5 / 5 · 50 files stored, 2.0 KiB');
  });

  it('formats durations for people', () => {
    expect([0, 42, 60, 130, 3599, 3600, 11_100].map(formatDuration)).toEqual(['0s', '42s', '1m 00s', '2m 10s', '59m 59s', '1h 00m', '3h 05m']);
  });
});

describe('ETA from the stage\'s own progress', () => {
  const startedAt = '2026-12-04T10:00:00.000Z';
  const at = (seconds: number) => Date.parse(startedAt) + seconds * 1000;

  it('is the time still needed at the pace kept since the stage started', () => {
    expect(etaSeconds({ fraction: 0.25, startedAt }, at(60))).toBe(180);
    expect(etaSeconds({ fraction: 0.5, startedAt }, at(600))).toBe(600);
    expect(etaSeconds({ fraction: 1, startedAt }, at(600))).toBe(0);
  });

  it('is unknown before any progress, without a start time, or with an unreadable one', () => {
    expect(etaSeconds({ fraction: 0, startedAt }, at(60))).toBeUndefined();
    expect(etaSeconds({ fraction: 0.5 }, at(60))).toBeUndefined();
    expect(etaSeconds({ fraction: 0.5, startedAt: 'yesterday' }, at(60))).toBeUndefined();
  });

  it('never counts time before the start (a target clock ahead of ours)', () => {
    expect(etaSeconds({ fraction: 0.5, startedAt }, at(-30))).toBe(0);
  });
});
