import { formatCount } from './format';
import { html, type Html } from './html';

export interface Bar {
  label: string;
  value: number;
  /** Shown after the bar instead of the plain count. */
  text?: string;
}

const WIDTH = 640;
const LABEL_WIDTH = 210;
const BAR_AREA = 330;
const ROW = 26;
const LABEL_CHARS = 30;

const short = (label: string) => (label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label);

/** A captioned horizontal bar chart in inline SVG: one row per bar, scaled to the largest value. */
export function barChart(title: string, bars: Bar[]): Html {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * ROW + 8;
  const rows = bars.map((bar, i) => {
    const y = 4 + i * ROW;
    const width = bar.value === 0 ? 0 : Math.max(2, Math.round((bar.value / max) * BAR_AREA));
    return html`<g class="bar bar-${i % 6}">
<title>${bar.label}: ${bar.text ?? formatCount(bar.value)}</title>
<text x="${LABEL_WIDTH - 8}" y="${y + 17}" text-anchor="end">${short(bar.label)}</text>
<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${width}" height="${ROW - 8}" rx="3"></rect>
<text x="${LABEL_WIDTH + width + 6}" y="${y + 17}" class="value">${bar.text ?? formatCount(bar.value)}</text>
</g>`;
  });
  return html`<figure><figcaption>${title}</figcaption><svg class="chart" role="img" aria-label="${title}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title>${title}</title>
${rows}
</svg></figure>`;
}
