import { formatDuration } from './format';
import { html, type Html } from './html';
import type { Phase } from './timeline';

const WIDTH = 640;
const LABEL_WIDTH = 150;
const AREA = 400;
const ROW = 26;

/** The phases as a Gantt chart in inline SVG: each bar placed and sized on the run's time axis. */
export function timelineChart(phases: Phase[]): Html {
  const start = Date.parse(phases[0]!.start);
  const span = Math.max(1, Date.parse(phases.at(-1)!.end) - start);
  const height = phases.length * ROW + 8;
  const rows = phases.map((phase, i) => {
    const y = 4 + i * ROW;
    const x = LABEL_WIDTH + Math.round(((Date.parse(phase.start) - start) / span) * AREA);
    const width = Math.max(2, Math.round(((phase.seconds * 1000) / span) * AREA));
    const label = formatDuration(phase.seconds);
    return html`<g class="bar bar-${i % 6}">
<title>${phase.name}: ${label} (${phase.start} to ${phase.end})</title>
<text x="${LABEL_WIDTH - 8}" y="${y + 17}" text-anchor="end">${phase.name}</text>
<rect x="${x}" y="${y + 3}" width="${width}" height="${ROW - 8}" rx="3"></rect>
<text x="${Math.min(x + width + 6, WIDTH - 70)}" y="${y + 17}" class="value">${label}</text>
</g>`;
  });
  return html`<svg class="chart" role="img" aria-label="Phases of the run over time" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title>Phases of the run over time</title>
${rows}
</svg>`;
}
