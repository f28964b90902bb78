import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ObjectStore } from '../../storage/port';

/** The parts of an S3 Inventory `manifest.json` a run reads. */
export const InventoryManifest = z.object({
  sourceBucket: z.string(),
  destinationBucket: z.string(),
  /** Milliseconds since the epoch, as a string: when S3 began scanning the bucket. */
  creationTimestamp: z.string().regex(/^\d+$/).optional(),
  fileFormat: z.string(),
  /** CSV: the column names, comma-separated; Parquet: a message schema (`message s3.inventory { … }`). */
  fileSchema: z.string(),
  files: z.array(z.object({ key: z.string(), size: z.number().int().nonnegative(), MD5checksum: z.string().regex(/^[0-9a-fA-F]{32}$/) })),
});
export type InventoryManifest = z.infer<typeof InventoryManifest>;

/** The inventory formats a run reads (S3 also writes ORC: refused by name). */
export const InventoryFormat = z.enum(['CSV', 'Parquet']);
export type InventoryFormat = z.infer<typeof InventoryFormat>;

/** A manifest checked and in a format a run reads. */
export type ReadableManifest = InventoryManifest & { fileFormat: InventoryFormat };

/** A manifest lists data files; a larger one is not an inventory manifest. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** The `manifest.checksum` S3 writes beside a `manifest.json` (MD5 of it, hex). */
export function checksumKeyOf(manifestKey: string): string {
  return manifestKey.replace(/manifest\.json$/, 'manifest.checksum');
}

/**
 * Reads an inventory's `manifest.json` from the bucket the inventory is delivered to, after
 * checking it against the `manifest.checksum` beside it (S3 writes that last: without it the
 * inventory is incomplete). Only CSV and Parquet inventories are read; ORC ones are refused with
 * their format named.
 */
export async function readInventoryManifest(store: ObjectStore, manifestKey: string): Promise<ReadableManifest> {
  const where = `s3://${store.bucket}/${manifestKey}`;
  const body = await readSmall(store, manifestKey, where);
  const checksumKey = checksumKeyOf(manifestKey);
  if (checksumKey === manifestKey || (await store.sizeOf(checksumKey)) === undefined) {
    throw new Error(`${where}: no manifest.checksum beside it (S3 writes it last: the inventory is incomplete, or this is not an S3 Inventory manifest)`);
  }
  const expected = (await readSmall(store, checksumKey, `s3://${store.bucket}/${checksumKey}`)).toString('utf8').trim().toLowerCase();
  const actual = createHash('md5').update(body).digest('hex');
  if (expected !== actual) throw new Error(`${where}: its MD5 is ${actual}, but manifest.checksum says ${expected} (the manifest is damaged or was replaced)`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error(`${where}: not JSON, not an S3 Inventory manifest`);
  }
  const parsed = InventoryManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${where}: not an S3 Inventory manifest (${issue.path.join('.') || 'manifest'}: ${issue.message})`);
  }
  const format = InventoryFormat.safeParse(parsed.data.fileFormat);
  if (!format.success) throw new Error(`${where}: ${parsed.data.fileFormat} inventories are not read (CSV and Parquet are)`);
  return { ...parsed.data, fileFormat: format.data };
}

/** When S3 began the inventory's scan: the manifest's creationTimestamp, else its folder's name. */
export function inventoryCreatedAt(manifest: InventoryManifest, manifestKey: string): Date | undefined {
  if (manifest.creationTimestamp) return new Date(Number(manifest.creationTimestamp));
  const folder = /(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})Z\/manifest\.json$/.exec(manifestKey);
  return folder ? new Date(`${folder[1]}T${folder[2]}:${folder[3]}:00Z`) : undefined;
}

async function readSmall(store: ObjectStore, key: string, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of await store.read(key)) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_MANIFEST_BYTES) throw new Error(`${where}: over ${MAX_MANIFEST_BYTES} bytes, not an S3 Inventory manifest`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
