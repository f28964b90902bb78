import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { decodeS3UrlEncodedKey } from '../../storage/s3-url-encoded-key';
import type { InventoryRow, RowBatches } from './inventory-row';

/** Rows parsed between hand-overs: big enough to amortise, small enough to stay bounded. */
const BATCH_ROWS = 1000;

/** The CSV columns a run reads, by the names `fileSchema` gives them. */
export function csvColumns(fileSchema: string): string[] {
  const columns = fileSchema.split(',').map((c) => c.trim());
  if (!columns.includes('Key')) throw new Error(`inventory schema "${fileSchema}" has no Key column`);
  return columns;
}

/**
 * The rows of a local gzip-compressed CSV data file (no header; columns as `fileSchema` names
 * them), streamed line by line. Keys in CSV inventories are URL-encoded: decoded here.
 */
export async function* csvRows(path: string, fileSchema: string, skipRows: number): RowBatches {
  const columns = csvColumns(fileSchema);
  const at = (name: string) => columns.indexOf(name);
  const [bucket, key, latest, deleteMarker, size, etag, modified] = ['Bucket', 'Key', 'IsLatest', 'IsDeleteMarker', 'Size', 'ETag', 'LastModifiedDate'].map(at) as [number, number, number, number, number, number, number];
  const field = (fields: string[], index: number) => (index === -1 || fields[index] === '' ? undefined : fields[index]);

  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  let position = 0;
  let rows: InventoryRow[] = [];
  for await (const line of lines) {
    if (line === '') continue;
    position++;
    if (position <= skipRows) continue;
    const fields = csvFields(line);
    const sizeText = field(fields, size);
    const modifiedText = field(fields, modified);
    rows.push({
      bucket: field(fields, bucket),
      key: decodeS3UrlEncodedKey(fields[key] ?? ''),
      isLatest: flag(field(fields, latest)),
      isDeleteMarker: flag(field(fields, deleteMarker)),
      size: sizeText === undefined ? undefined : Number(sizeText),
      etag: field(fields, etag),
      lastModified: modifiedText === undefined ? undefined : new Date(modifiedText),
    });
    if (rows.length === BATCH_ROWS) {
      yield { rows, first: position - rows.length };
      rows = [];
    }
  }
  if (rows.length > 0) yield { rows, first: position - rows.length };
}

function flag(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : value === 'true';
}

/** The fields of one CSV line: quoted ("" for a quote inside) or bare. */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) throw new Error('inventory CSV: a quoted field does not end on its line');
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
      i++; // the comma
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}
