/** Minimal path-template router: `/a/:id/b` templates, one handler per method + template. */
import type { IncomingMessage } from 'node:http';
import type { RecordedRequest } from './types';

export interface ApiRequest {
  params: Record<string, string>;
  /** First value of each query parameter. */
  query: Record<string, string>;
  /** Every query parameter (for repeated ones such as `expand`). */
  search: URLSearchParams;
  /** Parsed JSON body (json routes only). */
  body: unknown;
  /** The raw request: stream routes read their body from it. */
  raw: IncomingMessage;
  /** The record of this request; stream routes store their summarised body in it. */
  record: RecordedRequest;
}

/** Returns the JSON body of a 200 response; errors are thrown as HttpError. */
export type Handler = (req: ApiRequest) => unknown | Promise<unknown>;

export interface Route {
  method: 'GET' | 'POST';
  /** `json`: the server reads and parses the body first; `stream`: the handler consumes `raw` itself. */
  body: 'json' | 'stream';
  pattern: RegExp;
  paramNames: string[];
  handler: Handler;
}

export function route(method: Route['method'], template: string, handler: Handler, body: Route['body'] = 'json'): Route {
  const paramNames: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, body, pattern: new RegExp(`^${source}/?$`), paramNames, handler };
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong-method' }
  | { kind: 'none' };

export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch {
  let pathMatched = false;
  for (const candidate of routes) {
    const m = candidate.pattern.exec(path);
    if (!m) continue;
    if (candidate.method !== method) {
      pathMatched = true;
      continue;
    }
    const params: Record<string, string> = {};
    candidate.paramNames.forEach((name, i) => {
      params[name] = safeDecode(m[i + 1]!);
    });
    return { kind: 'found', route: candidate, params };
  }
  return pathMatched ? { kind: 'wrong-method' } : { kind: 'none' };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // left encoded; the id lookup then fails with 404
  }
}

/** `expand` may be repeated (`expand=a&expand=b`) or comma separated (`expand=a,b`). */
export function expandList(search: URLSearchParams): Set<string> {
  return new Set(
    search
      .getAll('expand')
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean),
  );
}
