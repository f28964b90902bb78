import { createLogger, type LogFormat, type Logger } from '../shared/log';
import type { CliIo } from './io';
import { progressView, type ProgressView } from './progress-view';

/**
 * A command's stderr: log lines (text on a terminal, JSON elsewhere, unless `--log-format` says)
 * and the progress view, whose lines off a terminal are log lines with the progress fields.
 */
export function cliOutput(io: CliIo, options: { quiet: boolean; logFormat?: LogFormat; progressIntervalMs?: number }): { log: Logger; view: ProgressView } {
  const format = options.logFormat ?? (io.stderr.isTTY ? 'text' : 'json');
  const log = createLogger(format, options.quiet ? 'warn' : 'info', (line) => view.writeLine(line));
  const view: ProgressView = progressView(io.stderr, {
    enabled: !options.quiet,
    lineEveryMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    report: (line, fields) => log.info(line, { ...fields }),
  });
  return { log, view };
}

const DEFAULT_PROGRESS_INTERVAL_MS = 5000;
