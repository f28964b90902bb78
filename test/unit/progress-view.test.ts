import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProgressReport } from '../../cli/progress-line';
import { progressView } from '../../cli/progress-view';
import type { RunProgress } from '../../shared/run/run-progress';

const CLEAR = '\u001b[K';

function output(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns, write: (s: string) => writes.push(s) } };
}

/** Lets the view draw what the counters it was just given say (it draws them together, a moment later). */
const flush = () => Promise.resolve();

const job = (percent: number): RunProgress => ({
  phase: 'processing',
  listed: 10,
  submitted: 10,
  job: { stage: 'processing', unit: 'tasks', done: 0, total: 1, fraction: percent / 100 },
});

describe('progress view', () => {
  beforeEach(() => vi.useFakeTimers({ now: Date.parse('2026-12-04T10:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  describe('on a terminal', () => {
    it('redraws one status line in place, at most every 100 ms, drawing the latest numbers once that time has passed', async () => {
      const { writes, out } = output(true);
      const view = progressView(out, { enabled: true, lineEveryMs: 5000, report: () => expect.unreachable() });
      view.listener('listed', 10);
      await flush();
      view.listener('listed', 5);
      await flush();
      view.listener('signed', 15);
      await flush();
      expect(writes).toEqual([`\rlisting: 10 listed · 0 signed · 0 submitted${CLEAR}`]);
      vi.advanceTimersByTime(100);
      expect(writes).toEqual([`\rlisting: 10 listed · 0 signed · 0 submitted${CLEAR}`, `\rlisting: 15 listed · 15 signed · 0 submitted${CLEAR}`]);
      vi.advanceTimersByTime(1000);
      expect(writes).toHaveLength(2);
      view.update(job(40));
      expect(writes.at(-1)).toBe(`\rjob: processing · tasks 0 / 1 · 40%${CLEAR}`);
    });

    it('draws counters that move together (a file stored and its bytes) in one line', async () => {
      const { writes, out } = output(true);
      const view = progressView(out, { enabled: true, lineEveryMs: 5000, report: () => {} });
      view.listener('exported-files', 3);
      view.listener('exported-bytes', 2048);
      await flush();
      expect(writes).toEqual([`\rexport: result files 0 · 3 files stored, 2.0 KiB${CLEAR}`]);
    });

    it('writes log lines above the status line and draws it again under them', () => {
      const { writes, out } = output(true);
      const view = progressView(out, { enabled: true, lineEveryMs: 5000, report: () => {} });
      view.writeLine('before any progress');
      view.update(job(10));
      view.writeLine('10:00:00 INFO  job started');
      expect(writes).toEqual([
        'before any progress\n',
        `\rjob: processing · tasks 0 / 1 · 10%${CLEAR}`,
        `\r${CLEAR}10:00:00 INFO  job started\njob: processing · tasks 0 / 1 · 10%${CLEAR}`,
      ]);
    });

    it('draws the last numbers when it finishes and leaves the cursor on a new line', () => {
      const { writes, out } = output(true);
      const view = progressView(out, { enabled: true, lineEveryMs: 5000, report: () => {} });
      view.update(job(10));
      view.update(job(90));
      view.finish();
      view.writeLine('results: s3://b/r/');
      expect(writes.slice(1)).toEqual([`\rjob: processing · tasks 0 / 1 · 90%${CLEAR}`, '\n', 'results: s3://b/r/\n']);
    });

    it('cuts the status line to the terminal width so a redraw never wraps', () => {
      const { writes, out } = output(true, 20);
      progressView(out, { enabled: true, lineEveryMs: 5000, report: () => {} }).update(job(10));
      expect(writes[0]).toBe(`\rjob: processing · t${CLEAR}`);
    });
  });

  describe('off a terminal', () => {
    it('reports a line at most every interval, at once when the phase changes, and never the same line twice', async () => {
      const { writes, out } = output(false);
      const reports: Array<[string, ProgressReport]> = [];
      const view = progressView(out, { enabled: true, lineEveryMs: 5000, report: (line, fields) => reports.push([line, fields]) });
      view.listener('listed', 10);
      await flush();
      view.listener('listed', 10);
      await flush();
      vi.advanceTimersByTime(4999);
      view.listener('signed', 20);
      await flush();
      expect(reports.map(([line]) => line)).toEqual(['listing: 10 listed · 0 signed · 0 submitted']);
      vi.advanceTimersByTime(1);
      view.listener('signed', 0);
      await flush();
      view.update(job(10));
      view.update(job(20));
      vi.advanceTimersByTime(5000);
      view.update(job(20));
      view.update(job(30));
      vi.advanceTimersByTime(5000);
      view.update(job(30));
      expect(reports.map(([line]) => line)).toEqual([
        'listing: 10 listed · 0 signed · 0 submitted',
        'listing: 20 listed · 20 signed · 0 submitted',
        'job: processing · tasks 0 / 1 · 10%',
        'job: processing · tasks 0 / 1 · 20%',
        'job: processing · tasks 0 / 1 · 30%',
      ]);
      expect(reports[2]![1]).toEqual({ phase: 'job', stage: 'processing', unit: 'tasks', done: 0, total: 1, percent: 10 });
      expect(writes).toEqual([]);
    });

    it('reports the final numbers when it finishes, and writes log lines as they are', () => {
      const { writes, out } = output(false);
      const reports: string[] = [];
      const view = progressView(out, { enabled: true, lineEveryMs: 5000, report: (line) => reports.push(line) });
      view.update(job(10));
      view.update(job(60));
      view.writeLine('{"level":"info"}');
      view.finish();
      view.finish();
      expect(reports).toEqual(['job: processing · tasks 0 / 1 · 10%', 'job: processing · tasks 0 / 1 · 60%']);
      expect(writes).toEqual(['{"level":"info"}\n']);
    });
  });

  it('shows nothing when disabled (--quiet), on a terminal or not', async () => {
    for (const tty of [true, false]) {
      const { writes, out } = output(tty);
      const view = progressView(out, { enabled: false, lineEveryMs: 5000, report: () => expect.unreachable() });
      view.listener('listed', 3);
      await flush();
      view.update(job(50));
      view.finish();
      view.writeLine('a warning');
      expect(writes).toEqual(['a warning\n']);
    }
  });
});
