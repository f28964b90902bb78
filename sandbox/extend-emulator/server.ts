/**
 * HTTP front door: records every API request, applies injected faults, checks the bearer token and the
 * API version header, then dispatches to the routes. Every error leaves as `{ code, message, retryable }`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendJson } from '../emulator-kit/http-io';
import { recordOf } from '../emulator-kit/recorded-request';
import { matchRoute, type Route } from '../emulator-kit/router';
import type { EmulatorContext } from './context';
import { ApiError, errorBody, invalidRequest, notFound, parseJsonBody, readBody } from './http-io';
import { apiRoutes } from './routes';
import type { ExtendRecordedRequest } from './types';

export const API_VERSION = '2026-02-09';
const VERSION_HEADER = 'x-extend-api-version';

export function createEmulatorServer(ctx: EmulatorContext, requests: ExtendRecordedRequest[]): Server {
  const routes = apiRoutes(ctx);
  return createServer((req, res) => {
    handle(ctx, routes, requests, req, res).catch((err) => {
      ctx.reportError(err);
      if (!res.headersSent) sendJson(res, 500, errorBody(500, 'INTERNAL_ERROR', 'internal emulator error'));
      else res.destroy();
    });
  });
}

async function handle(
  ctx: EmulatorContext,
  routes: Route[],
  requests: ExtendRecordedRequest[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const method = req.method ?? 'GET';
  const record: ExtendRecordedRequest = recordOf(req, url, 'authorization');
  requests.push(record);
  const respond = (status: number, body: unknown, headers?: Record<string, string>) => {
    record.status = status;
    sendJson(res, status, body, headers);
  };

  try {
    let body: unknown;
    let bodyError: ApiError | undefined;
    try {
      body = parseJsonBody(await readBody(req));
      record.body = body;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      bodyError = err;
    }

    const injected = ctx.faults.take(method, url.pathname, { target: req.url ?? url.pathname, body });
    if (injected) return respond(injected.status, injected.body, injected.headers);
    if (!bearerMatches(req.headers.authorization, ctx.options.apiKey)) {
      throw new ApiError(401, 'UNAUTHORIZED', 'missing or invalid API key; send Authorization: Bearer <key>');
    }
    const version = req.headers[VERSION_HEADER];
    if (version !== API_VERSION) {
      throw invalidRequest(
        version === undefined
          ? `the ${VERSION_HEADER} header is required; this emulator speaks ${API_VERSION}`
          : `unsupported ${VERSION_HEADER}; this emulator speaks ${API_VERSION}`,
      );
    }

    const match = matchRoute(routes, method, url.pathname);
    if (match.kind === 'none') throw notFound(`no such endpoint: ${method} ${url.pathname}`);
    if (match.kind === 'wrong-method') throw new ApiError(405, 'INVALID_REQUEST', `method ${method} not allowed on ${url.pathname}`);
    if (bodyError) throw bodyError;

    respond(200, await match.route.handler({ params: match.params, query: record.query, body }));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    respond(err.status, errorBody(err.status, err.code, err.message));
  }
}

function bearerMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]!.trim()), digest(expected));
}
