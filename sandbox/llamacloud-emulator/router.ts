/** LlamaCloud's routes: the kit router plus streaming bodies, the raw request and repeated query parameters. */
import type { IncomingMessage } from 'node:http';
import * as kit from '../emulator-kit/router';
import type { RecordedRequest } from './types';

export interface ApiRequest extends kit.ApiRequest {
  /** Every query parameter (for repeated ones such as `expand`). */
  search: URLSearchParams;
  /** Parsed JSON body (json routes only). */
  body: unknown;
  /** The raw request: stream routes read their body from it. */
  raw: IncomingMessage;
  /** The record of this request; stream routes store their summarised body in it. */
  record: RecordedRequest;
}

export interface Route extends kit.Route<ApiRequest> {
  /** `json`: the server reads and parses the body first; `stream`: the handler consumes `raw` itself. */
  body: 'json' | 'stream';
}

export function route(method: Route['method'], template: string, handler: kit.Handler<ApiRequest>, body: Route['body'] = 'json'): Route {
  return { ...kit.route(method, template, handler), body };
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
