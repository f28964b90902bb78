/** Extend-style identifiers: a type prefix plus 22 random base62 characters (`exr_xK9mLPqRtN3vS8wF5hB2cQ`). */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 22;

export function randomToken(length = ID_LENGTH): string {
  // Rejection sampling keeps every character equally likely.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export const newId = (prefix: string) => `${prefix}_${randomToken()}`;

/** Stable id derived from `seed`, for objects the emulator does not store (processor versions). */
export function stableId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; out.length < ID_LENGTH; i++) out += ALPHABET[digest[i % digest.length]! % 62];
  return `${prefix}_${out}`;
}
