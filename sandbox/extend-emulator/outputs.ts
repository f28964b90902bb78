/**
 * Deterministic stand-ins for what Extend's models would return: everything is derived from the file's
 * bytes (hash, size, page count), so the same file always yields the same output.
 */
import type { ProcessorKind } from './kinds';
import { stableId } from './ids';
import type { FileRecord } from './store';

const TEXT_LINES_PER_PAGE = 50;
const BYTES_PER_PAGE_GUESS = 100_000;
const MAX_PAGES = 500;

const CLASSIFICATIONS = ['invoice', 'receipt', 'contract', 'other'] as const;

/** File type as Extend names it, from the extension first, then the content type. */
export function fileTypeOf(name: string, mimeType: string): string | null {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  const byExt: Record<string, string> = {
    pdf: 'PDF', csv: 'CSV', txt: 'TXT', docx: 'DOCX', doc: 'DOCX', xlsx: 'EXCEL', xls: 'EXCEL', xml: 'XML',
    html: 'HTML', htm: 'HTML', png: 'IMG', jpg: 'IMG', jpeg: 'IMG', gif: 'IMG', tif: 'IMG', tiff: 'IMG',
    webp: 'IMG', bmp: 'IMG', heic: 'IMG',
  };
  if (ext && byExt[ext]) return byExt[ext];
  const mime = mimeType.split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/pdf') return 'PDF';
  if (mime.startsWith('image/')) return 'IMG';
  if (mime === 'text/csv') return 'CSV';
  if (mime === 'text/plain') return 'TXT';
  if (mime === 'text/html') return 'HTML';
  if (mime.endsWith('/xml')) return 'XML';
  return null;
}

/** Page and line counts: PDF page objects, text lines, otherwise a size-based guess. */
export function measure(type: string | null, head: Buffer, size: number): { pageCount: number; lineCount: number | null } {
  const clamp = (n: number) => Math.min(MAX_PAGES, Math.max(1, n));
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') {
    const pages = head.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
    return { pageCount: clamp(pages), lineCount: null };
  }
  if (type === 'TXT' || type === 'CSV') {
    const text = head.toString('utf8');
    const lineCount = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    return { pageCount: clamp(Math.ceil(lineCount / TEXT_LINES_PER_PAGE)), lineCount };
  }
  if (type === 'IMG') return { pageCount: 1, lineCount: null };
  return { pageCount: clamp(Math.ceil(size / BYTES_PER_PAGE_GUESS)), lineCount: null };
}

/** Two numbers in [0, 1) taken from the file hash, for stable pseudo-random choices. */
function hashFractions(file: FileRecord): [number, number] {
  return [parseInt(file.sha256.slice(0, 4), 16) / 0x10000, parseInt(file.sha256.slice(4, 8), 16) / 0x10000];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function classificationOf(file: FileRecord): { type: string; confidence: number } {
  const [pick, conf] = hashFractions(file);
  return { type: CLASSIFICATIONS[Math.floor(pick * CLASSIFICATIONS.length)]!, confidence: round2(0.6 + conf * 0.39) };
}

export function outputFor(kind: ProcessorKind, file: FileRecord): unknown {
  if (kind.type === 'extract') return extractOutput(file);
  if (kind.type === 'classify') return classifyOutput(file);
  return splitOutput(file);
}

function extractOutput(file: FileRecord): unknown {
  const value = {
    fileName: file.name,
    fileType: file.type,
    byteLength: file.size,
    pageCount: file.pageCount,
    sha256Prefix: file.sha256.slice(0, 16),
  };
  const [, conf] = hashFractions(file);
  const metadata = Object.fromEntries(
    Object.keys(value).map((field) => [field, { logprobsConfidence: round2(0.9 + conf * 0.09), ocrConfidence: null, citations: [{ page: 1 }] }]),
  );
  return { value, metadata };
}

function classifyOutput(file: FileRecord): unknown {
  const { type, confidence } = classificationOf(file);
  return { id: `cls_${type}`, type, confidence, insights: [] };
}

function splitOutput(file: FileRecord): unknown {
  const { type } = classificationOf(file);
  const ranges: Array<[number, number]> =
    file.pageCount === 1 ? [[1, 1]] : [[1, Math.ceil(file.pageCount / 2)], [Math.ceil(file.pageCount / 2) + 1, file.pageCount]];
  const splits = ranges.map(([startPage, endPage], i) => ({
    id: stableId('split', `${file.sha256}:${i}`),
    type,
    name: `${type} ${i + 1}`,
    identifier: `${type}-${i + 1}`,
    observation: `pages ${startPage}-${endPage} classified as ${type} (emulated)`,
    startPage,
    endPage,
    classificationId: `cls_${type}`,
    fileId: file.id,
  }));
  return { splits };
}
