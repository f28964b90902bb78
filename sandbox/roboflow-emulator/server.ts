/**
 * HTTP front door: serves signed downloads and upload PUTs, and for API requests records them, applies injected
 * faults, checks `api_key` and the workspace slug (where the path names one), then dispatches to the route handlers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { firstValues, sendJson } from '../emulator-kit/http-io';
import { recordOf } from '../emulator-kit/recorded-request';
import { matchRoute, type Route } from '../emulator-kit/router';
import type { EmulatorContext } from './context';
import { DOWNLOAD_PREFIX, serveDownload } from './downloads';
import { HttpError, notFound, parseJsonBody, readBody } from './http-io';
import { accountRoutes } from './routes-account';
import { jobRoutes } from './routes-jobs';
import { stagingRoutes } from './routes-staging';
import { uploadRoutes, type RawApiRequest } from './routes-uploads';
import type { RecordedRequest } from './types';
import { UPLOAD_PREFIX, serveUpload } from './upload-puts';

export function createEmulatorServer(ctx: EmulatorContext, requests: RecordedRequest[]): Server {
  const routes: Route<RawApiRequest>[] = [...accountRoutes(ctx), ...uploadRoutes(ctx), ...stagingRoutes(ctx), ...jobRoutes(ctx)];
  return createServer((req, res) => {
    handle(ctx, routes, requests, req, res).catch((err) => {
      ctx.reportError(err);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal emulator error' });
      else res.destroy();
    });
  });
}

async function handle(
  ctx: EmulatorContext,
  routes: Route<RawApiRequest>[],
  requests: RecordedRequest[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  if (url.pathname.startsWith(DOWNLOAD_PREFIX)) return serveDownload(req, res, url, ctx.downloads, ctx.store);
  if (url.pathname.startsWith(UPLOAD_PREFIX)) {
    const record = recordOf(req, url, { queryParam: 'signature' });
    requests.push(record);
    return serveUpload(ctx, req, res, url, record);
  }

  const method = req.method ?? 'GET';
  const query = firstValues(url.searchParams);
  const record = recordOf(req, url, { queryParam: 'api_key' });
  requests.push(record);
  const respond = (status: number, body: unknown, headers?: Record<string, string>) => {
    record.status = status;
    sendJson(res, status, body, headers);
  };

  try {
    const raw = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown;
    let bodyError: HttpError | undefined;
    // A multipart body (upload/image) is read by its handler from `raw`.
    if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
      try {
        body = parseJsonBody(raw);
        record.body = body;
      } catch (err) {
        bodyError = err as HttpError;
      }
    }

    const injected = ctx.faults.take(method, url.pathname, { target: req.url ?? url.pathname, body });
    if (injected) return respond(injected.status, injected.body, injected.headers);
    if (!apiKeyMatches(query.api_key, ctx.options.apiKey)) throw new HttpError(401, 'missing or invalid api_key');

    const match = matchRoute(routes, method, url.pathname);
    if (match.kind === 'none') throw notFound(`no such endpoint: ${method} ${url.pathname}`);
    if (match.kind === 'wrong-method') throw new HttpError(405, `method ${method} not allowed on ${url.pathname}`);
    if ('workspace' in match.params && match.params.workspace !== ctx.options.workspace) throw notFound(`workspace ${match.params.workspace} not found`);
    if (bodyError) throw bodyError;

    respond(200, await match.route.handler({ params: match.params, query, body, raw, contentType }));
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    respond(err.status, { error: err.message });
  }
}

function apiKeyMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
