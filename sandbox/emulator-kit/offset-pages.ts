/**
 * Offset pagination with an opaque token, for emulated list endpoints. The token names the listing
 * it belongs to (`scope`, which includes the filters), so a token reused with another listing is
 * rejected instead of silently skipping items. Parameter names and error answers differ per API.
 */
export interface OffsetPageRequest {
  /** The raw page size and token from the query (absent when not given). */
  pageSize: string | undefined;
  token: string | undefined;
  maxPageSize: number;
  scope: string;
  /** The API's names for the two parameters, for error messages. */
  names: { pageSize: string; token: string };
  /** The API's "bad request" error. */
  invalid: (message: string) => Error;
}

export function offsetPage<T>(all: readonly T[], req: OffsetPageRequest): { items: T[]; nextToken?: string } {
  const pageSize = parsePageSize(req);
  const offset = req.token ? decodeToken(req) : 0;
  if (offset > all.length) throw req.invalid(`${req.names.token} is invalid`);
  const end = offset + pageSize;
  return { items: all.slice(offset, end), nextToken: end < all.length ? encodeToken(req.scope, end) : undefined };
}

function parsePageSize({ pageSize: raw, maxPageSize, names, invalid }: OffsetPageRequest): number {
  if (raw === undefined || raw === '') return maxPageSize;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw invalid(`${names.pageSize} must be a positive integer`);
  return Math.min(Number(raw), maxPageSize);
}

function encodeToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64url');
}

function decodeToken({ token, scope, names, invalid }: OffsetPageRequest): number {
  try {
    const parsed = JSON.parse(Buffer.from(token!, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    if (parsed.s === scope && Number.isInteger(parsed.o) && (parsed.o as number) >= 0) return parsed.o as number;
  } catch {
    // fall through to the uniform error below
  }
  throw invalid(`${names.token} is invalid`);
}
