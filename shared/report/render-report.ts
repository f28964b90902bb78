import { SKIPPED_KEYS_KEPT } from '../pipeline/skip-samples';
import { countsSection } from './counts-section';
import { dataCount } from './data-count';
import { formatDuration } from './format';
import { html, relativeHref } from './html';
import { failedSection, skippedSection } from './reasons-section';
import { REPORT_KEYS_PER_REASON } from './reason-groups';
import type { RunReport } from './report-model';
import { resultsSection } from './results-section';
import { REPORT_CSS } from './styles';
import { timelineSection } from './timeline-section';

/**
 * The run report: one self-contained HTML page (inline CSS and SVG, no script, no external
 * request), readable from a bucket or a local file. Every number carries `data-value` and
 * `data-count`: its path in summary.json, or for totals derived from it `skippedTotal` and
 * `failed.byReason.<stage>: <type>`. Every outside string is escaped.
 */
export function renderReport(report: RunReport): string {
  const s = report.summary;
  const target = s.target;
  const facts: Array<[string, unknown]> = [
    ['source', s.source],
    ['destination', s.destination],
    ['target', target.name],
    ['media', s.media],
    ['batch', target.batchId],
    ['job', target.jobId],
    ['job state', s.jobState],
    ['results stage', s.resultsStage],
    ['references files', s.chunks.length],
  ];
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>bucket-bridge run ${s.runId} · ${s.status}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header>
<h1>Run <code>${s.runId}</code> <span class="status status-${s.status}" id="status" data-status="${s.status}">${s.status}</span></h1>
${s.durationSeconds !== undefined ? html`<p class="note">took ${dataCount('durationSeconds', s.durationSeconds, formatDuration(s.durationSeconds))}</p>` : ''}
${s.error ? html`<p class="error" id="error">${s.error}</p>` : ''}
<dl class="facts">${facts.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => html`<dt>${k}</dt><dd><code>${String(v)}</code></dd>`)}</dl>
</header>
${countsSection(s, report.skipped, report.failed)}
${timelineSection(s)}
${skippedSection(report.skipped, SKIPPED_KEYS_KEPT)}
${failedSection(s, report.failed, REPORT_KEYS_PER_REASON)}
${resultsSection(s, report.results)}
<section id="files">
<h2>Files of this run</h2>
<ul>${report.files.map((f) => html`<li><a href="${relativeHref(f)}"><code>${f}</code></a></li>`)}</ul>
</section>
<footer>Written by bucket-bridge at ${report.generatedAt}. Numbers equal summary.json in this folder.</footer>
</main>
</body>
</html>
`;
  return page.markup;
}
