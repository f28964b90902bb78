import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, referenceName } from '../../shared/pipeline/name';

describe('referenceName', () => {
  it('derives readable names from the full key and keeps the extension', () => {
    expect(referenceName('cams/lot1/0001.jpg')).toBe('cams__lot1__0001.jpg');
    expect(referenceName('photo.jpg')).toBe('photo.jpg');
  });

  it('gives distinct names to keys that naive schemes collide', () => {
    const keys = ['a/b.jpg', 'a__b.jpg', 'b.jpg', 'x/b.jpg', 'y/b.jpg', 'a_/b.jpg', 'a/_b.jpg', 'a_2f_b.jpg', 'a/b.jpg/'];
    const names = keys.map(referenceName);
    expect(new Set(names).size).toBe(keys.length);
    for (const name of names.slice(0, -1)) expect(name.endsWith('.jpg')).toBe(true);
  });

  it('encodes unicode, spaces, + and % to safe characters only', () => {
    const keys = ['dir/ü ber.png', 'dir/a+b.png', 'dir/a b.png', 'dir/a%20b.png', 'dir/日本.webp', 'dir/a~b.png'];
    const names = keys.map(referenceName);
    expect(new Set(names).size).toBe(keys.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(referenceName('dir/a+b.png')).toBe('dir__a_2bb.png');
    expect(referenceName('dir/a b.png')).toBe('dir__a_20b.png');
  });

  it('encodes each code point as its UTF-8 bytes: astral characters whole, a lone surrogate as U+FFFD, _ and capitals tagged', () => {
    expect(referenceName('a/😀.jpg')).toBe('a___f0_9f_98_80.jpg');
    expect(referenceName('a\uD800b.jpg')).toBe('a_ef_bf_bdb.jpg');
    expect(referenceName('img_01.JPG')).toBe('img_5f01~c0e.JPG');
    expect(referenceName('Ab_\u0000/C.png')).toBe('Ab_5f_00__C~c9.png');
  });

  it('is injective on a random sample of awkward keys', () => {
    const seen = sampleNames(42, ['a', 'b', '/', '_', '.', ' ', '+', '%', 'ü', '2', 'f', '~'], () => '.jpg', referenceName);
    expect(seen).toBeGreaterThan(10_000);
  });

  it('gives keys that differ only in case names that differ in more than case', () => {
    const keys = ['A.jpg', 'a.jpg', 'dir/Photo.JPG', 'dir/photo.jpg', 'dir/PHOTO.jpg', 'dir/photo.JPG', 'Dir/photo.jpg', 'x/ab.png', 'x/aB.png', 'x/Ab.png', 'x/AB.png'];
    const names = keys.map(referenceName);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(keys.length);
    // Still readable, the extension intact (its case included), and all-lowercase keys unchanged.
    expect(referenceName('a.jpg')).toBe('a.jpg');
    expect(referenceName('dir/Photo.JPG')).toMatch(/^dir__Photo~c[0-9a-z]+\.JPG$/);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9._~-]+$/);
  });

  it('is injective ignoring case on a random sample of keys that differ in case', () => {
    const alphabet = ['a', 'A', 'b', 'B', '/', '_', '.', 'f', 'F', '2', 'ü', 'Ü', '~'];
    const seen = sampleNames(7, alphabet, (random) => (random() < 0.5 ? '.jpg' : '.JPG'), (key) => referenceName(key).toLowerCase());
    expect(seen).toBeGreaterThan(10_000);
  });

  it('shortens very long keys with a hash, keeping names distinct and the extension', () => {
    const long = 'deep/'.repeat(100);
    const a = referenceName(`${long}one.png`);
    const b = referenceName(`${long}two.png`);
    expect(a.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(a).not.toBe(b);
    expect(a.endsWith('.png')).toBe(true);
    expect(a).toContain('~h_');
    expect(referenceName(`${long}one.png`)).toBe(a);
    const upper = referenceName(`${long.toUpperCase()}one.png`);
    expect(upper.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(upper.toLowerCase()).not.toBe(a.toLowerCase());
  });
});

/**
 * Names 20,000 random keys (1–8 characters of `alphabet` plus an extension) and fails on the first
 * two keys that share a name; returns how many distinct keys were named.
 */
function sampleNames(seed: number, alphabet: string[], extension: (random: () => number) => string, name: (key: string) => string): number {
  const random = () => {
    // mulberry32: a small PRNG with good low bits, so the sample is diverse and repeatable.
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const seen = new Map<string, string>();
  for (let i = 0; i < 20_000; i++) {
    const length = 1 + Math.floor(random() * 8);
    let key = '';
    for (let j = 0; j < length; j++) key += alphabet[Math.floor(random() * alphabet.length)];
    key += extension(random);
    const named = name(key);
    const previous = seen.get(named);
    if (previous !== undefined) expect(previous).toBe(key);
    seen.set(named, key);
  }
  return seen.size;
}
