/** Cursor pagination as LlamaCloud lists use it: `page_size` + `page_token` in, `{items, next_page_token?, total_size}` out. */
import { badRequest } from './http-io';

export interface Page<T> {
  items: T[];
  /** Omitted on the last page. */
  next_page_token?: string;
  total_size: number;
}

/**
 * Offset pagination with an opaque token. The token names the listing it belongs to (`scope`, which
 * includes the filters), so a token reused with another listing is rejected instead of skipping items.
 */
export function paginate<T, V>(all: readonly T[], query: Record<string, string>, maxPageSize: number, scope: string, view: (item: T) => V): Page<V> {
  const pageSize = parsePageSize(query.page_size, maxPageSize);
  const token = query.page_token;
  const offset = token ? decodeToken(token, scope) : 0;
  if (offset > all.length) throw badRequest('page_token is invalid');
  const end = offset + pageSize;
  const page: Page<V> = { items: all.slice(offset, end).map(view), total_size: all.length };
  if (end < all.length) page.next_page_token = encodeToken(scope, end);
  return page;
}

function parsePageSize(raw: string | undefined, max: number): number {
  if (raw === undefined || raw === '') return max;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw badRequest('page_size must be a positive integer');
  return Math.min(Number(raw), max);
}

function encodeToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64url');
}

function decodeToken(token: string, scope: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    if (parsed.s === scope && Number.isInteger(parsed.o) && (parsed.o as number) >= 0) return parsed.o as number;
  } catch {
    // fall through to the uniform error below
  }
  throw badRequest('page_token is invalid');
}
