import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import type { ObjectStore, StoredObject } from '../../storage/port';
import { decodeS3UrlEncodedKey } from '../../storage/s3-url-encoded-key';

/** The parts of an S3 Inventory `manifest.json` a run reads. */
export const InventoryManifest = z.object({
  sourceBucket: z.string(),
  destinationBucket: z.string(),
  fileFormat: z.string(),
  fileSchema: z.string(),
  files: z.array(z.object({ key: z.string(), size: z.number().optional() })),
});
export type InventoryManifest = z.infer<typeof InventoryManifest>;

/** A manifest lists data files; a larger one is not an inventory manifest. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Reads an inventory's `manifest.json` from the bucket the inventory is delivered to. Only CSV
 * inventories are read for now; Parquet and ORC ones are refused with their format named.
 */
export async function readInventoryManifest(store: ObjectStore, manifestKey: string): Promise<InventoryManifest> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of await store.read(manifestKey)) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_MANIFEST_BYTES) throw new Error(`${manifestKey}: over ${MAX_MANIFEST_BYTES} bytes, not an S3 Inventory manifest`);
    chunks.push(chunk as Buffer);
  }
  const manifest = InventoryManifest.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  if (manifest.fileFormat !== 'CSV') throw new Error(`${manifestKey}: ${manifest.fileFormat} inventories are not read yet (CSV only)`);
  return manifest;
}

/**
 * The objects of one inventory data file (gzip-compressed CSV, columns as the manifest's
 * `fileSchema` names them), under `prefix`, in pages of at most `pageSize`. Keys in CSV inventories
 * are URL-encoded. Rows of versioned inventories that are not the current version, or are delete
 * markers, are left out. Each data file is one partition: no listing at all.
 */
export async function* readInventoryFile(
  store: ObjectStore,
  manifest: InventoryManifest,
  fileKey: string,
  options: { prefix: string; pageSize: number },
): AsyncGenerator<StoredObject[]> {
  const columns = manifest.fileSchema.split(',').map((c) => c.trim());
  const at = (name: string) => columns.indexOf(name);
  const key = at('Key');
  if (key === -1) throw new Error(`inventory schema "${manifest.fileSchema}" has no Key column`);
  const [size, etag, modified, latest, deleteMarker] = ['Size', 'ETag', 'LastModifiedDate', 'IsLatest', 'IsDeleteMarker'].map(at);

  const lines = createInterface({ input: (await store.read(fileKey)).pipe(createGunzip()), crlfDelay: Infinity });
  let page: StoredObject[] = [];
  for await (const line of lines) {
    if (line === '') continue;
    const row = csvFields(line);
    if (latest !== -1 && row[latest] === 'false') continue;
    if (deleteMarker !== -1 && row[deleteMarker] === 'true') continue;
    const objectKey = decodeS3UrlEncodedKey(row[key]!);
    if (!objectKey.startsWith(options.prefix)) continue;
    page.push({
      key: objectKey,
      size: size === -1 ? 0 : Number(row[size] || 0),
      ...(etag !== -1 && row[etag] ? { etag: row[etag] } : {}),
      ...(modified !== -1 && row[modified] ? { lastModified: new Date(row[modified]!) } : {}),
    });
    if (page.length === options.pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
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
