import { offsetPage } from '../emulator-kit/offset-pages';
import { badRequest } from './http-io';

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

/** Roboflow's lists: `pageSize` + `nextPageToken` in, `{items, nextPageToken}` out (null on the last page). */
export function paginate<T>(all: readonly T[], query: Record<string, string>, maxPageSize: number, scope: string): Page<T> {
  const { items, nextToken } = offsetPage(all, {
    pageSize: query.pageSize,
    token: query.nextPageToken,
    maxPageSize,
    scope,
    names: { pageSize: 'pageSize', token: 'nextPageToken' },
    invalid: badRequest,
  });
  return { items, nextPageToken: nextToken ?? null };
}
