import { createHash } from 'node:crypto';

/** Folder (inside the run folder) of the mirror layout. */
export const MIRROR_FOLDER = 'by-key/';

/** S3's limit on a whole key, in UTF-8 bytes; GCS allows the same. */
const MAX_KEY_BYTES = 1024;

/** Characters escaped in a mirrored segment: controls, DEL, `\` and `%` itself (so escapes are unambiguous). */
const ESCAPED = /[\u0000-\u001f\u007f\\%]/g;

/**
 * The key, relative to the run folder, under which the result of source object `key` is mirrored:
 * `by-key/<key><extension>`. Source keys are hostile input, so the mirrored path is built to stay
 * inside `by-key/` and to be distinct for distinct keys:
 * - every segment between `/` is kept, with `%`, `\`, control characters and DEL written `%XX`
 *   (their UTF-8 bytes), so no key can smuggle a path separator or a terminal escape;
 * - the segments `.` and `..` become `%2E` and `%2E%2E`, and an empty segment (a leading `/`, `//`,
 *   a trailing `/`) becomes `%2F`, so no segment walks up, and an absolute-looking key stays below;
 * - a path longer than the store's key limit becomes `by-key/%long/<SHA-256 of the key><extension>`
 *   (`%long` is never produced by the escaping above).
 * Escapes only ever produce `%` followed by two hex digits, and `%` in a key is always escaped, so
 * the mapping is injective.
 */
export function mirrorKey(folder: string, key: string, extension: string): string {
  const segments = key.split('/').map(mirrorSegment);
  const path = `${MIRROR_FOLDER}${segments.join('/')}${extension}`;
  if (Buffer.byteLength(folder + path) <= MAX_KEY_BYTES) return path;
  return `${MIRROR_FOLDER}%long/${createHash('sha256').update(key).digest('hex')}${extension}`;
}

function mirrorSegment(segment: string): string {
  if (segment === '') return '%2F';
  if (segment === '.') return '%2E';
  if (segment === '..') return '%2E%2E';
  return segment.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
