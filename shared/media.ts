import { z } from 'zod';

/** What Roboflow processes. */
export const RoboflowMedia = z.enum(['images', 'videos']);
/** Everything a target may process: documents go to the document targets (Extend, LlamaCloud). */
export const MediaKind = z.enum(['images', 'videos', 'documents']);
export type MediaKind = z.infer<typeof MediaKind>;

// Images and videos: the extension sets Roboflow's own client accepts (case-insensitive).
// Documents: what the document targets read (PDF, office files, text, scans).
const EXTENSIONS: Record<MediaKind, ReadonlySet<string>> = {
  documents: new Set(['pdf', 'doc', 'docx', 'ppt', 'pptx', 'xls', 'xlsx', 'csv', 'txt', 'md', 'html', 'htm', 'rtf', 'png', 'jpg', 'jpeg', 'tif', 'tiff', 'webp']),
  images: new Set(['bmp', 'dib', 'jpeg', 'jpg', 'jpe', 'jp2', 'png', 'webp']),
  videos: new Set([
    'mp4', 'm4a', 'm4p', 'm4b', 'm4r', 'm4v', 'avi', 'mov', 'mkv', 'flv', 'wmv', 'mpeg', 'mpg', '3gp', 'webm', 'ogg',
  ]),
};

/** Largest image Roboflow ingests (20 MiB); bigger ones are skipped before submission. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** Roboflow references per ingest request (and so per JSONL chunk file). */
export const MAX_REFERENCES_PER_CHUNK: Record<z.infer<typeof RoboflowMedia>, number> = { images: 20_000, videos: 5_000 };

export function extensionOf(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

export function isMediaKey(key: string, kind: MediaKind): boolean {
  return EXTENSIONS[kind].has(extensionOf(key));
}
