import { createHash } from 'node:crypto';
import { extensionOf } from '../media';

/** Longest name we emit; longer encodings are shortened with a hash of the full key. */
export const MAX_NAME_LENGTH = 200;

const SAFE = /[A-Za-z0-9.-]/;

/**
 * Encodes a full object key as a reference name. The encoding is injective, so two different keys
 * can never share a name: '/' becomes '__', every other character outside [A-Za-z0-9.-] (including
 * '_' itself) becomes '_' plus its UTF-8 bytes in lowercase hex. `_` is always followed by `_` or a
 * hex pair, which keeps the code prefix-free. Very long keys keep a readable tail, the extension and
 * a SHA-256 of the full key.
 */
export function referenceName(key: string): string {
  const encoded = encodeKey(key);
  if (encoded.length <= MAX_NAME_LENGTH) return encoded;
  const ext = extensionOf(key);
  const suffix = ext ? `.${encodeKey(key.slice(key.length - ext.length))}` : '';
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 40);
  const stem = encoded.slice(0, MAX_NAME_LENGTH - hash.length - suffix.length - 3);
  return `${stem}~h_${hash}${suffix}`;
}

function encodeKey(key: string): string {
  let out = '';
  for (const char of key) {
    if (char === '/') out += '__';
    else if (SAFE.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
