/** Cursor pagination as LlamaCloud lists use it: `page_size` + `page_token` in, `{items, next_page_token?, total_size}` out. */
import { offsetPage } from '../emulator-kit/offset-pages';
import { badRequest } from './http-io';

export interface Page<T> {
  items: T[];
  /** Omitted on the last page. */
  next_page_token?: string;
  total_size: number;
}

export function paginate<T, V>(all: readonly T[], query: Record<string, string>, maxPageSize: number, scope: string, view: (item: T) => V): Page<V> {
  const { items, nextToken } = offsetPage(all, {
    pageSize: query.page_size,
    token: query.page_token,
    maxPageSize,
    scope,
    names: { pageSize: 'page_size', token: 'page_token' },
    invalid: badRequest,
  });
  const page: Page<V> = { items: items.map(view), total_size: all.length };
  if (nextToken !== undefined) page.next_page_token = nextToken;
  return page;
}
