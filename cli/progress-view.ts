import type { ProgressListener } from '../shared/progress';
import type { RunProgress } from '../shared/run/run-progress';
import { progressReport, renderProgress, zeroCounters, type ProgressReport } from './progress-line';

export interface ProgressOutput {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressViewOptions {
  enabled: boolean;
  /** Not on a terminal: one progress line at most this often, and one at each change of phase. */
  lineEveryMs: number;
  /** Writes a progress line when not on a terminal (as a log line, text or JSON, with the report's fields). */
  report: (line: string, fields: ProgressReport) => void;
}

export interface ProgressView {
  listener: ProgressListener;
  /** The latest look at the run (record and target). */
  update(live: RunProgress): void;
  /** Writes one whole line (a log line) without tearing the status line on a terminal. */
  writeLine(line: string): void;
  finish(): void;
}

/** On a terminal the status line is redrawn at most this often. */
const REDRAW_MS = 100;

/**
 * The run's progress for people: on a terminal one status line redrawn in place (plain ANSI: a
 * carriage return and erase-to-end-of-line), with log lines written above it; elsewhere (CI logs,
 * pipes) a progress line every `lineEveryMs` and at each change of phase, through `report`.
 */
export function progressView(out: ProgressOutput, options: ProgressViewOptions): ProgressView {
  const tty = Boolean(out.isTTY);
  const counters = zeroCounters();
  let live: RunProgress | undefined;
  let shown = '';
  let lastDraw = -Infinity;
  let lastPhase: ProgressReport['phase'] | undefined;
  let finished = false;
  let trailing: NodeJS.Timeout | undefined;
  let pending = false;

  const fit = (line: string) => (out.columns && line.length >= out.columns ? line.slice(0, out.columns - 1) : line);
  const draw = (force: boolean) => {
    if (!options.enabled || finished) return;
    const report = progressReport(counters, live);
    const line = renderProgress(report);
    const now = Date.now();
    if (tty) {
      if (!force && now - lastDraw < REDRAW_MS) {
        // Drawn a moment ago: the latest numbers are drawn once that moment has passed.
        trailing ??= setTimeout(() => {
          trailing = undefined;
          draw(false);
        }, REDRAW_MS - (now - lastDraw)).unref();
        return;
      }
      lastDraw = now;
      shown = fit(line);
      out.write(`\r${shown}\u001b[K`);
      return;
    }
    const phaseChanged = report.phase !== lastPhase;
    if (line === shown || (!force && !phaseChanged && now - lastDraw < options.lineEveryMs)) return;
    lastDraw = now;
    lastPhase = report.phase;
    shown = line;
    options.report(line, report);
  };

  return {
    listener: (stage, increment) => {
      counters[stage] += increment;
      // Counters that move together (a file and its bytes) are drawn together.
      if (pending) return;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        draw(false);
      });
    },
    update: (next) => {
      live = next;
      draw(false);
    },
    writeLine: (line) => {
      if (!tty || !shown || finished) {
        out.write(`${line}\n`);
        return;
      }
      out.write(`\r\u001b[K${line}\n${shown}\u001b[K`);
    },
    finish: () => {
      if (finished) return;
      clearTimeout(trailing);
      draw(true);
      finished = true;
      if (tty && shown) out.write('\n');
    },
  };
}
