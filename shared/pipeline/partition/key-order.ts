/**
 * Compares keys the way S3 and GCS list them: by their UTF-8 bytes, which is code point order.
 * JavaScript's `<` compares UTF-16 code units, which puts U+E000–U+FFFF after the astral planes;
 * shifting those two ranges past each other restores code point order without encoding anything.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
