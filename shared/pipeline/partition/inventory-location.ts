import { InputError } from '../../errors';
import type { ObjectStore } from '../../storage/port';
import { checksumKeyOf, inventoryCreatedAt, readInventoryManifest, type ReadableManifest } from './inventory-manifest';

/** Inventories older than this are refused unless the run says otherwise (S3 writes them daily or weekly). */
export const DEFAULT_INVENTORY_MAX_AGE_DAYS = 7;

const DAY_MS = 24 * 60 * 60 * 1000;
/** The folder S3 writes each inventory's manifest into: `YYYY-MM-DDTHH-MMZ/`. */
const MANIFEST_FOLDER = /(^|\/)\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z\/$/;

/** Which inventory a run reads: a `manifest.json`, or the prefix up to the inventory's config id (its newest manifest). */
export interface InventoryRequest {
  /** The bucket S3 delivers the inventory to. */
  bucket: string;
  /** `…/manifest.json`, or `<destination prefix>/<source bucket>/<config id>/`. */
  key: string;
  maxAgeDays: number;
  /** The setting that named it, for errors (`--inventory`, `sources[id=…].inventory`). */
  setting: string;
  /** Deployed runs: each data file is a partition, and a plan holds at most this many. */
  maxDataFiles?: number;
}

/** The inventory a run was planned from: fixed when the run is created, so a resumed run reads the same one. */
export interface InventorySource {
  bucket: string;
  manifestKey: string;
}

/**
 * The manifest a run reads: the one named, or the newest complete one (with its manifest.checksum)
 * under the config id prefix. Checked (checksum, format, source bucket, age) before the run exists.
 */
export async function pickInventory(
  store: ObjectStore,
  request: InventoryRequest,
  run: { sourceBucket: string; now?: Date },
): Promise<{ source: InventorySource; manifest: ReadableManifest; createdAt?: Date }> {
  const manifestKey = request.key.endsWith('manifest.json') ? request.key : await newestManifestKey(store, request);
  const manifest = await readInventoryManifest(store, manifestKey);
  const where = `s3://${request.bucket}/${manifestKey}`;
  if (manifest.sourceBucket !== run.sourceBucket) {
    throw new InputError(request.setting, `an inventory of the source bucket ${run.sourceBucket}`, `${where} (an inventory of ${manifest.sourceBucket})`);
  }
  if (request.maxDataFiles !== undefined && manifest.files.length > request.maxDataFiles) {
    throw new InputError(
      request.setting,
      `an inventory of at most ${request.maxDataFiles} data files (each is a partition of the run; split the source: an inventory configuration and a source for each part of the bucket, by prefix)`,
      `${where} (${manifest.files.length} data files)`,
    );
  }
  const createdAt = inventoryCreatedAt(manifest, manifestKey);
  const now = run.now ?? new Date();
  if (createdAt && now.getTime() - createdAt.getTime() > request.maxAgeDays * DAY_MS) {
    const days = Math.floor((now.getTime() - createdAt.getTime()) / DAY_MS);
    throw new InputError(
      request.setting,
      `an inventory at most ${request.maxAgeDays} days old (objects added since would be missed; allow older ones with the maximum age setting)`,
      `${where}, created ${createdAt.toISOString()} (${days} days ago)`,
    );
  }
  return { source: { bucket: request.bucket, manifestKey }, manifest, createdAt };
}

/** The newest `YYYY-MM-DDTHH-MMZ/` folder under the config id prefix that holds a complete manifest. */
async function newestManifestKey(store: ObjectStore, request: InventoryRequest): Promise<string> {
  const prefix = request.key === '' || request.key.endsWith('/') ? request.key : `${request.key}/`;
  const folders: string[] = [];
  for await (const page of store.list(prefix, { delimiter: '/' })) {
    folders.push(...(page.commonPrefixes ?? []).filter((p) => MANIFEST_FOLDER.test(p)));
  }
  // The folder names are UTC timestamps of fixed width: newest sorts last.
  folders.sort();
  for (const folder of folders.reverse()) {
    const manifestKey = `${folder}manifest.json`;
    if ((await store.sizeOf(checksumKeyOf(manifestKey))) !== undefined && (await store.sizeOf(manifestKey)) !== undefined) return manifestKey;
  }
  throw new InputError(
    request.setting,
    'an S3 Inventory manifest.json, or the prefix up to the inventory configuration id holding YYYY-MM-DDTHH-MMZ/manifest.json and manifest.checksum',
    `s3://${request.bucket}/${prefix} (${folders.length === 0 ? 'no manifest folders' : `${folders.length} manifest folders, none complete`})`,
  );
}
