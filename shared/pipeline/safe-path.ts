/**
 * A relative path that stays inside its folder: no absolute paths, drive letters, backslashes,
 * `..` segments or control characters. Returns the normalised path, or undefined when unsafe.
 */
export function safeRelativePath(path: string): string | undefined {
  if (path === '' || path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || /[\u0000-\u001f]/.test(path)) {
    return undefined;
  }
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 || segments.some((s) => s === '..')) return undefined;
  return segments.join('/');
}
