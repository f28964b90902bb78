import { createHash } from 'node:crypto';
import type { ObjectStore } from '../shared/storage/port';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A small deterministic "image": a PNG signature and filler derived from the key. */
export function fakeImage(key: string, bytes = 2048): Buffer {
  const filler = Buffer.alloc(bytes - PNG_SIGNATURE.length);
  let block = createHash('sha256').update(key).digest();
  for (let i = 0; i < filler.length; i += block.length) {
    block.copy(filler, i);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat([PNG_SIGNATURE, filler]);
}

export interface SeededBucket {
  prefix: string;
  images: string[];
  notMedia: string[];
  tooLarge: string[];
}

/**
 * A few dozen images under nested prefixes, names that collide under naive naming schemes,
 * unicode / space / `+` keys, one non-image and one image over Roboflow's 20 MiB limit.
 */
export async function seedDemoBucket(store: ObjectStore, prefix = 'incoming/', options: { withOversize?: boolean } = {}): Promise<SeededBucket> {
  const images: string[] = [];
  for (let lot = 1; lot <= 3; lot++) {
    for (let i = 1; i <= 8; i++) images.push(`${prefix}cams/lot${lot}/${String(i).padStart(4, '0')}.jpg`);
  }
  images.push(
    `${prefix}a/b.jpg`,
    `${prefix}a__b.jpg`,
    `${prefix}b.jpg`,
    `${prefix}x/b.jpg`,
    `${prefix}y/b.jpg`,
    `${prefix}ünï cödé/photo 1.png`,
    `${prefix}plus+sign/shot+1.webp`,
    `${prefix}UPPER/CASE.JPEG`,
  );
  for (const key of images) await store.write(key, fakeImage(key));
  const notMedia = [`${prefix}notes/readme.txt`];
  await store.write(notMedia[0]!, 'not an image\n');
  const tooLarge: string[] = [];
  if (options.withOversize !== false) {
    tooLarge.push(`${prefix}huge/panorama.png`);
    await store.write(tooLarge[0]!, Buffer.alloc(20 * 1024 * 1024 + 1, 7));
  }
  return { prefix, images, notMedia, tooLarge };
}

/** A dozen small documents under nested prefixes (names with spaces and `+`), and one non-document. */
export async function seedDocuments(store: ObjectStore, prefix = 'papers/'): Promise<{ prefix: string; documents: string[]; other: string[] }> {
  const documents: string[] = [];
  for (const folder of ['invoices/2026-11', 'contracts', 'reports/q3']) {
    for (let i = 1; i <= 3; i++) documents.push(`${prefix}${folder}/doc ${i}.pdf`);
  }
  documents.push(`${prefix}notes/meeting+notes.txt`, `${prefix}notes/summary.docx`, `${prefix}a__b.pdf`);
  for (const key of documents) await store.write(key, `%PDF-1.7\n% ${key}\n${'lorem ipsum '.repeat(40)}\n\fpage two of ${key}\n`);
  const other = [`${prefix}scans/raw.bin`];
  await store.write(other[0]!, fakeImage(other[0]!));
  return { prefix, documents, other };
}
