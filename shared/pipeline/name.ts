import { createHash } from 'node:crypto';

/** Longest name we emit; longer encodings are shortened with a hash of the full key. */
export const MAX_NAME_LENGTH = 200;

/** One character (a code point, or a lone surrogate) outside [A-Za-z0-9.-]. */
const UNSAFE = /[^A-Za-z0-9.-]/gu;

/**
 * The reference name of an object: derived from its full key alone (never from other keys, so runs
 * can be resumed and partitioned), readable, with the extension kept, and distinct for distinct
 * keys even ignoring case (users download results onto case-insensitive file systems).
 *
 * 1. The key is encoded injectively: '/' becomes '__', every other character outside [A-Za-z0-9.-]
 *    (including '_' itself) becomes '_' plus its UTF-8 bytes in lowercase hex. `_` is always
 *    followed by `_` or a hex pair, which keeps the code prefix-free.
 * 2. When that has capital letters, a case tag goes before the extension: `~c` and a hex bit mask
 *    of which letters of the encoding are capitals (the first letter is the top bit of the first
 *    digit; trailing zero digits dropped): `dir/Photo.JPG` → `dir__Photo~c10e.JPG`. Names without
 *    a tag have no capitals, and a tag restores the capitals of its name, so two names that are
 *    equal ignoring case come from the same key.
 * 3. Names longer than MAX_NAME_LENGTH keep a readable head, `~h_`, 40 hex digits of the SHA-256 of
 *    the exact key, and the extension.
 */
export function referenceName(key: string): string {
  const extPart = encodeKey(extensionWithDot(key));
  const encoded = encodeKey(key);
  const stem = encoded.slice(0, encoded.length - extPart.length);
  const mask = capitalsMask(encoded);
  const name = mask ? `${stem}~c${mask}${extPart}` : encoded;
  if (name.length <= MAX_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 40);
  const head = stem.slice(0, MAX_NAME_LENGTH - hash.length - extPart.length - 3);
  return `${head}~h_${hash}${extPart}`;
}

/** `.JPG` of `dir/Photo.JPG`, as written; '' without one (as `extensionOf` decides). */
function extensionWithDot(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot);
}

function encodeKey(key: string): string {
  return key.replace(UNSAFE, encodeChar);
}

function encodeChar(char: string): string {
  if (char === '/') return '__';
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
  return out;
}

/** Which letters are capitals, as hex (4 letters a digit); '' when none is. */
function capitalsMask(encoded: string): string {
  if (!/[A-Z]/.test(encoded)) return '';
  const letters = encoded.replace(/[^A-Za-z]/g, '');
  let mask = '';
  for (let i = 0; i < letters.length; i += 4) {
    let digit = 0;
    for (let j = 0; j < 4; j++) if (/[A-Z]/.test(letters[i + j] ?? '')) digit |= 8 >> j;
    mask += digit.toString(16);
  }
  return mask.replace(/0+$/, '');
}
