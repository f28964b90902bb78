import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../shared/pipeline/partition/key-order';
import { KeySpace } from '../../shared/pipeline/partition/key-space';

describe('key space learnt from sampled keys', () => {
  it('numbers numbered names by their number', () => {
    const space = new KeySpace('flat/', ['flat/img_000000.jpg', 'flat/img_000999.jpg', 'flat/img_004321.jpg', 'flat/img_199999.jpg']);
    expect(space.valueOf('flat/img_012345.jpg') - space.valueOf('flat/img_000000.jpg')).toBe(12_345);
    expect(space.keyAt(space.valueOf('flat/img_150000.jpg'))).toBe('flat/img_150000.jpg');
  });

  it('keeps the stores\' key order both ways: a greater key never has a smaller value, a greater value never a smaller key', () => {
    const characters = ['a', 'f', 'z', '0', '7', '9', '.', '-', '_', 'A', 'é', '\u{1F600}', '\uE000'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const keys = Array.from({ length: 400 }, () => 'p/' + Array.from({ length: 1 + Math.floor(next() * 6) }, () => characters[Math.floor(next() * characters.length)]).join(''));
    const space = new KeySpace('p/', keys.slice(0, 100));
    const sorted = [...new Set(keys)].sort(compareKeys);
    for (let i = 1; i < sorted.length; i++) expect(space.valueOf(sorted[i]!), `${sorted[i - 1]} < ${sorted[i]}`).toBeGreaterThanOrEqual(space.valueOf(sorted[i - 1]!));
    const values = sorted.map((k) => space.valueOf(k));
    for (let i = 1; i < values.length; i++) expect(compareKeys(space.keyAt(values[i]!), space.keyAt(values[i - 1]!))).toBeGreaterThanOrEqual(0);
    for (const value of values) expect(space.valueOf(space.keyAt(value))).toBeLessThanOrEqual(value);
  });
});
