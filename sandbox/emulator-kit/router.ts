/** Minimal path-template router: `/a/:id/b` templates, one handler per method + template. */

export interface ApiRequest {
  params: Record<string, string>;
  /** First value of each query parameter. */
  query: Record<string, string>;
  body: unknown;
}

/** Returns the JSON body of a 200 response; errors are thrown as the emulator's HTTP error type. */
export type Handler<Req = ApiRequest> = (req: Req) => unknown | Promise<unknown>;

export interface Route<Req = ApiRequest> {
  method: 'GET' | 'POST';
  pattern: RegExp;
  paramNames: string[];
  handler: Handler<Req>;
}

export function route<Req = ApiRequest>(method: Route['method'], template: string, handler: Handler<Req>): Route<Req> {
  const paramNames: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}/?$`), paramNames, handler };
}

export type RouteMatch<R> = { kind: 'found'; route: R; params: Record<string, string> } | { kind: 'wrong-method' } | { kind: 'none' };

/** First route whose template and method match; earlier routes win (list literal paths before `:param` ones). */
export function matchRoute<R extends Route<never>>(routes: readonly R[], method: string, path: string): RouteMatch<R> {
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
    return segment; // left encoded; the id check or lookup then rejects it
  }
}
