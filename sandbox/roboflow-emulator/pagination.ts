import { badRequest } from './http-io';

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

/**
 * Offset pagination with an opaque token. The token names the listing it belongs to (`scope`),
 * so a token from one listing is rejected by another instead of silently skipping items.
 */
export function paginate<T>(all: readonly T[], query: Record<string, string>, maxPageSize: number, scope: string): Page<T> {
  const pageSize = parsePageSize(query.pageSize, maxPageSize);
  const token = query.nextPageToken;
  const offset = token ? decodeToken(token, scope) : 0;
  if (offset > all.length) throw badRequest('nextPageToken is invalid');
  const end = offset + pageSize;
  return {
    items: all.slice(offset, end),
    nextPageToken: end < all.length ? encodeToken(scope, end) : null,
  };
}

function parsePageSize(raw: string | undefined, max: number): number {
  if (raw === undefined || raw === '') return max;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw badRequest('pageSize must be a positive integer');
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
  throw badRequest('nextPageToken is invalid');
}
