import { isArchive } from '../pipeline/archive';
import type { RunSummary } from '../pipeline/summary';
import { dataCount } from './data-count';
import { formatBytes, formatCount } from './format';
import { html, relativeHref, type Html } from './html';
import type { ResultFile, ResultFileList } from './result-files';

/** A copied single file is linked where it lies, relative to the report; an unpacked archive is not one object. */
function pathCell(file: ResultFile): Html {
  const linkable = !file.failure && file.files === 1 && !isArchive(file.path);
  return linkable ? html`<a href="${relativeHref(file.path)}"><code>${file.path}</code></a>` : html`<code>${file.path}</code>`;
}

/** The result parts with their totals, then the result files one by one (bounded). */
export function resultsSection(s: RunSummary, list: ResultFileList): Html {
  const parts = Object.entries(s.exported.parts).map(
    ([part, p]) => html`<tr><td><code>${part}/</code></td><td class="n">${dataCount(`exported.parts.${part}.files`, p.files)}</td><td class="n">${dataCount(`exported.parts.${part}.bytes`, p.bytes, formatBytes(p.bytes))}</td></tr>`,
  );
  const files = list.files.map(
    (f) => html`<tr class="result${f.failure ? ' failed' : ''}" data-path="${f.path}"><td>${pathCell(f)}</td><td class="n">${formatCount(f.files)}</td><td class="n">${formatBytes(f.bytes)}</td><td>${f.failure ? `${f.failure.type}: ${f.failure.reason}` : 'copied'}</td></tr>`,
  );
  const more = list.total - list.files.length;
  return html`<section id="results">
<h2>Result files</h2>
<p class="note">Paths are relative to <code>${s.destination}</code>${s.resultsStage ? html` (copied from the job's <code>${s.resultsStage}</code> stage)` : ''}.</p>
${parts.length === 0
    ? html`<p class="note">No result was copied.</p>`
    : html`<table><thead><tr><th>part</th><th class="n">files</th><th class="n">bytes</th></tr></thead><tbody>${parts}</tbody></table>`}
${files.length > 0
    ? html`<h3>Files</h3><table><thead><tr><th>result file</th><th class="n">objects</th><th class="n">bytes</th><th>outcome</th></tr></thead><tbody>${files}</tbody></table>`
    : ''}
${more > 0 ? html`<p class="more" data-more="${more}">… and ${formatCount(more)} more result files (the first ${list.files.length} are listed)</p>` : ''}
</section>`;
}
