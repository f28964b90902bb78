import { formatCount } from './format';
import { html, type Html } from './html';

/**
 * A number as people read it, carrying its exact value and its place in summary.json
 * (`failed.byType.<type>`), so tools and tests read the page's numbers without parsing text.
 */
export function dataCount(path: string, value: number, text = formatCount(value)): Html {
  return html`<span class="num" data-count="${path}" data-value="${value}">${text}</span>`;
}
