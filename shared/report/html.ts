/**
 * HTML built so that text can never become markup: every value put into an `html` template is
 * escaped unless it is itself `Html` made by this module. Object keys, failure reasons and part
 * names come from outside (a bucket's keys are anyone's input), so no string is trusted.
 */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

type Value = Html | string | number | undefined | null | false | readonly Value[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: Value): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/** A template whose interpolated values are escaped (arrays joined, `Html` kept as it is). */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** A relative link target for a path under the report's folder: each segment percent-encoded. */
export function relativeHref(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
