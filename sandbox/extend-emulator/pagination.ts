/**
 * Keyset pagination over runs. A token holds the sort key of the last run returned plus a digest of the
 * filters and sort order, so a token is rejected by any other listing instead of silently skipping runs.
 * Runs created after the first page still show up on later pages when they sort after the cursor.
 */
import { createHash } from 'node:crypto';
import { invalidRequest } from './http-io';
import type { ListQuery } from './schemas';
import type { RunState } from './store';

type SortKey = [number, number];

export interface RunPage {
  runs: RunState[];
  nextPageToken?: string;
}

export function pageOfRuns(runs: Iterable<RunState>, query: ListQuery, scope: string, maxPageSize: number): RunPage {
  const pageSize = Math.min(query.maxPageSize ?? maxPageSize, maxPageSize);
  const digest = scopeDigest(scope, query);
  const direction = query.sortDir === 'asc' ? 1 : -1;
  const keyOf = (run: RunState): SortKey => [query.sortBy === 'updatedAt' ? run.updatedMs : run.createdMs, run.seq];
  const compare = (a: SortKey, b: SortKey) => direction * (a[0] - b[0] || a[1] - b[1]);

  const cursor = query.nextPageToken ? decodeToken(query.nextPageToken, digest) : undefined;
  const ordered = [...runs].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const after = cursor ? ordered.filter((run) => compare(keyOf(run), cursor) > 0) : ordered;
  const page = after.slice(0, pageSize);
  const last = page.at(-1);
  return {
    runs: page,
    nextPageToken: after.length > pageSize && last ? encodeToken(digest, keyOf(last)) : undefined,
  };
}

function scopeDigest(scope: string, query: ListQuery): string {
  const { nextPageToken: _token, maxPageSize: _size, ...filters } = query;
  return createHash('sha256').update(JSON.stringify([scope, filters])).digest('base64url').slice(0, 16);
}

function encodeToken(digest: string, key: SortKey): string {
  return Buffer.from(JSON.stringify({ d: digest, k: key })).toString('base64url');
}

function decodeToken(token: string, digest: string): SortKey {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { d?: unknown; k?: unknown };
    const key = parsed.k;
    if (parsed.d === digest && Array.isArray(key) && key.length === 2 && key.every((n) => Number.isSafeInteger(n))) {
      return key as SortKey;
    }
  } catch {
    // fall through to the uniform error below
  }
  throw invalidRequest('nextPageToken is invalid');
}
