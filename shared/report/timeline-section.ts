import type { RunSummary } from '../pipeline/summary';
import { formatDuration } from './format';
import { html, type Html } from './html';
import { phasesOf } from './timeline';
import { timelineChart } from './timeline-chart';

/** When each phase ran and for how long, as a chart and a table of the exact times. */
export function timelineSection(s: RunSummary): Html {
  const phases = phasesOf(s.timings);
  const rows = phases.map(
    (p) => html`<tr data-phase="${p.name}"><td>${p.name}</td><td><code>${p.start}</code></td><td><code>${p.end}</code></td><td class="n" data-seconds="${p.seconds}">${formatDuration(p.seconds)}</td></tr>`,
  );
  return html`<section id="timeline">
<h2>Timeline</h2>
${phases.length === 0
    ? html`<p class="note">No phase has ended yet.</p>`
    : html`${timelineChart(phases)}
<table><thead><tr><th>phase</th><th>started</th><th>ended</th><th class="n">took</th></tr></thead><tbody>${rows}</tbody></table>`}
</section>`;
}
