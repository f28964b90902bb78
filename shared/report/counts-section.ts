import type { RunSummary } from '../pipeline/summary';
import { barChart, type Bar } from './bar-chart';
import { dataCount } from './data-count';
import { formatBytes, formatCount } from './format';
import { html, type Html } from './html';
import type { ReasonGroup } from './reason-groups';

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Skipped and failed objects by reason in one chart: drawn when there are two reasons or more
 * (one reason is already said by the cards).
 */
function leftOutChart(skipped: ReasonGroup[], failed: ReasonGroup[]): Html | undefined {
  const bars: Bar[] = [...skipped.map((g) => ({ label: `skipped: ${g.reason}`, value: g.total })), ...failed.map((g) => ({ label: g.reason, value: g.total }))];
  return bars.length >= 2 ? barChart('Objects skipped or failed, by reason', bars) : undefined;
}

/** The run's headline counts as cards, how many objects made it through each phase, and why the others did not. */
export function countsSection(s: RunSummary, skippedGroups: ReasonGroup[], failedGroups: ReasonGroup[]): Html {
  const skipped = sum(s.skipped);
  const card = (label: string, value: Html, bad = false) => html`<div class="card${bad ? ' bad' : ''}"><span class="label">${label}</span>${value}</div>`;
  const cards = [
    card('listed', dataCount('listed', s.listed)),
    card('skipped', dataCount('skippedTotal', skipped)),
    card('submitted', dataCount('submitted', s.submitted)),
    s.partitions ? card('partitions submitted', dataCount('partitions.done', s.partitions.done, `${formatCount(s.partitions.done)} / ${formatCount(s.partitions.total)}`), s.partitions.done < s.partitions.total) : undefined,
    s.ingested !== undefined ? card('ingested', dataCount('ingested', s.ingested)) : undefined,
    card('failed', dataCount('failed.total', s.failed.total), s.failed.total > 0),
    card('result files', dataCount('exported.files', s.exported.files)),
    card('result bytes', dataCount('exported.bytes', s.exported.bytes, formatBytes(s.exported.bytes))),
  ];
  const bars: Bar[] = [
    { label: 'listed', value: s.listed },
    { label: 'skipped', value: skipped },
    { label: 'submitted', value: s.submitted },
    ...(s.ingested !== undefined ? [{ label: 'ingested', value: s.ingested }] : []),
    { label: 'failed', value: s.failed.total },
    { label: 'result files copied', value: s.exported.files },
  ];
  return html`<section id="counts">
<h2>Counts</h2>
<div class="cards">${cards.filter((c) => c !== undefined)}</div>
${barChart('Objects per phase', bars)}
${leftOutChart(skippedGroups, failedGroups)}
</section>`;
}
