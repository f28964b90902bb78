/**
 * Deterministic fake parse/extract output derived from an upload's bytes. Text uploads (no NUL byte,
 * valid UTF-8) become one page per form-feed-separated section of the kept head; binary uploads become
 * ceil(size / 256 KiB) pages (at most 20) that state the size and SHA-256 of the received bytes.
 */
import type { StoredUpload } from './store';

const BINARY_PAGE_BYTES = 256 * 1024;
const MAX_PAGES = 20;

export interface DocumentPage {
  page_number: number;
  markdown: string;
  text: string;
}

export function documentPages(displayName: string, upload: StoredUpload): DocumentPage[] {
  const text = textOf(upload.head);
  if (text !== undefined) {
    const sections = text.split('\f');
    if (sections.length > 1 && sections.at(-1)!.trim() === '') sections.pop();
    return sections.slice(0, MAX_PAGES).map((section, i) => ({
      page_number: i + 1,
      markdown: section,
      text: stripMarkdown(section),
    }));
  }
  const count = Math.min(MAX_PAGES, Math.max(1, Math.ceil(upload.size / BINARY_PAGE_BYTES)));
  return Array.from({ length: count }, (_, i) => {
    const line = `Page ${i + 1} of ${count} · ${upload.size} bytes · sha256 ${upload.sha256}`;
    return { page_number: i + 1, markdown: `# ${displayName}\n\n${line}\n`, text: `${displayName}\n\n${line}\n` };
  });
}

/** Per-document extract result (the `per_doc` shape: one object). */
export function extractResult(displayName: string, upload: StoredUpload): Record<string, unknown> {
  const pages = documentPages(displayName, upload);
  const firstLine = pages[0]!.text.split('\n').find((l) => l.trim() !== '') ?? '';
  return {
    file_name: displayName,
    size_bytes: upload.size,
    sha256: upload.sha256,
    page_count: pages.length,
    first_line: firstLine.slice(0, 200),
  };
}

function textOf(head: Buffer): string | undefined {
  if (head.includes(0)) return undefined;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  // The kept head may end inside a multi-byte character; only replacements before that count.
  return text.slice(0, -3).includes('\uFFFD') ? undefined : text.replace(/\uFFFD+$/, '');
}

function stripMarkdown(markdown: string): string {
  return markdown
    .replace(/^#{1,6}\s+/gm, '')
    .replace(/[*_`]/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
}
