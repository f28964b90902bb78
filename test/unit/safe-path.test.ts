import { describe, expect, it } from 'vitest';
import { safeRelativePath } from '../../shared/pipeline/safe-path';

describe('safeRelativePath', () => {
  it('normalises harmless paths', () => {
    expect(safeRelativePath('a/b.json')).toBe('a/b.json');
    expect(safeRelativePath('./a//b.json')).toBe('a/b.json');
  });

  it.each(['../x.json', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\..\\b', '', '.', 'a/\u0000b'])('rejects %j', (path) => {
    expect(safeRelativePath(path)).toBeUndefined();
  });
});
