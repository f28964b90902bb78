import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

/**
 * Columns that may hold the reference name of an aggregated prediction row, in the order they
 * are tried. The Roboflow emulator writes `name`; Roboflow documents no column name for its
 * aggregated CSV / JSONL, so the usual alternatives are accepted too.
 */
export const NAME_COLUMNS = ['name', 'file_name', 'image_name', 'image'] as const;

/** One prediction row of an aggregated file: the reference name it is for, and the row as written. */
export interface AggregatedRow {
  name: string | undefined;
  /** The row's own text: one JSON object (JSONL) or one CSV record (no line ending). */
  raw: string;
  /** A CSV row's fields. */
  fields?: string[];
}

export type AggregatedFormat = 'jsonl' | 'csv';

export function aggregatedFormat(key: string): AggregatedFormat | undefined {
  const ext = /\.(jsonl|csv)$/i.exec(key)?.[1]?.toLowerCase();
  return ext === 'jsonl' || ext === 'csv' ? ext : undefined;
}

/** The rows of a JSONL file, one line at a time; lines that are not JSON objects are left out. */
export async function* jsonlRows(body: Readable): AsyncGenerator<AggregatedRow> {
  for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) continue;
    const record = row as Record<string, unknown>;
    const column = NAME_COLUMNS.find((c) => typeof record[c] === 'string');
    yield { name: column && (record[column] as string), raw: line };
  }
}

/** A CSV file: its header record, then its rows (RFC 4180: quoted fields may hold commas, quotes and line breaks). */
export async function* csvRows(body: Readable, onHeader: (header: CsvRecord) => void): AsyncGenerator<AggregatedRow> {
  let nameIndex = -1;
  let first = true;
  for await (const record of csvRecords(body)) {
    if (first) {
      first = false;
      onHeader(record);
      nameIndex = NAME_COLUMNS.map((c) => record.fields.indexOf(c)).find((i) => i >= 0) ?? -1;
      continue;
    }
    yield { name: nameIndex >= 0 ? record.fields[nameIndex] : undefined, raw: record.raw, fields: record.fields };
  }
}

export interface CsvRecord {
  fields: string[];
  raw: string;
}

/** Streams CSV records, holding one record at a time. */
export async function* csvRecords(body: Readable): AsyncGenerator<CsvRecord> {
  body.setEncoding('utf8');
  let raw = '';
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  let afterQuote = false;
  let pendingCr = false;
  for await (const chunk of body as AsyncIterable<string>) {
    for (const c of chunk) {
      if (pendingCr) {
        pendingCr = false;
        if (c === '\n') continue;
      }
      if (quoted) {
        raw += c;
        if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else field += c;
        continue;
      }
      if (c === '\n' || c === '\r') {
        pendingCr = c === '\r';
        fields.push(field);
        if (raw !== '' || fields.length > 1) yield { fields, raw };
        raw = '';
        field = '';
        fields = [];
        afterQuote = false;
        continue;
      }
      raw += c;
      if (c === '"') {
        // `""` inside a quoted field is one quote; a quote opening a field starts quoting.
        if (afterQuote) field += '"';
        quoted = true;
        afterQuote = false;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        afterQuote = false;
      } else {
        field += c;
        afterQuote = false;
      }
    }
  }
  if (raw !== '' || field !== '' || fields.length > 0) {
    fields.push(field);
    yield { fields, raw };
  }
}

/** One CSV field, quoted when it must be. */
export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
