import type { RunSummary } from '../pipeline/summary';
import { dataCount } from './data-count';
import { formatCount } from './format';
import { html, type Html } from './html';
import type { ReasonGroup } from './reason-groups';

function groupBlock(group: ReasonGroup, kind: 'skipped' | 'failed', moreNote: string): Html {
  const rows = group.items.map(
    (item) => html`<tr class="object" data-key="${item.key}"><td><code>${item.key}</code></td>${kind === 'failed' ? html`<td>${item.detail ?? ''}</td>` : ''}</tr>`,
  );
  const more = group.total - group.items.length;
  return html`<div class="group" data-kind="${kind}" data-reason="${group.reason}">
<h3>${group.reason} · ${dataCount(`${kind === 'skipped' ? 'skipped' : 'failed.byReason'}.${group.reason}`, group.total)}</h3>
${rows.length > 0 ? html`<table><thead><tr><th>object</th>${kind === 'failed' ? html`<th>reason</th>` : ''}</tr></thead><tbody>${rows}</tbody></table>` : ''}
${more > 0 ? html`<p class="more" data-more="${more}">… and ${formatCount(more)} more (${moreNote})</p>` : ''}
</div>`;
}

const countTable = (title: string, path: string, counts: Record<string, number>) =>
  html`<table><thead><tr><th>${title}</th><th class="n">objects</th></tr></thead><tbody>${Object.entries(counts).map(
    ([name, n]) => html`<tr><td>${name}</td><td class="n">${dataCount(`${path}.${name}`, n)}</td></tr>`,
  )}</tbody></table>`;

/** Objects left out before submission, by reason, with the keys the run kept for each. */
export function skippedSection(groups: ReasonGroup[], keysKept: number): Html {
  return html`<section id="skipped">
<h2>Skipped objects</h2>
${groups.length === 0
    ? html`<p class="note">No object was skipped.</p>`
    : groups.map((g) => groupBlock(g, 'skipped', `the run keeps the first ${keysKept} keys of each reason`))}
</section>`;
}

/** Objects and result files that failed, counted by stage and type, with their keys and reasons. */
export function failedSection(s: RunSummary, groups: ReasonGroup[], keysShown: number): Html {
  if (s.failed.total === 0) return html`<section id="failed"><h2>Failed objects</h2><p class="note">Nothing failed.</p></section>`;
  return html`<section id="failed">
<h2>Failed objects</h2>
${countTable('stage', 'failed.byStage', s.failed.byStage)}
${countTable('type', 'failed.byType', s.failed.byType)}
${groups.map((g) => groupBlock(g, 'failed', `the first ${keysShown} of each reason are shown; failed.jsonl lists them all`))}
</section>`;
}
