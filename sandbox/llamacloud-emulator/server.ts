/**
 * HTTP front door: serves presigned result files, and for API requests records them, applies injected
 * faults, checks the Bearer key, then dispatches to the route handlers. Errors are `{"detail": …}`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { recordOf } from '../emulator-kit/recorded-request';
import { matchRoute, type RouteMatch } from '../emulator-kit/router';
import type { EmulatorContext } from './context';
import { drainBody, HttpError, isConnectionGone, parseJsonBody, readBody, sendJson } from './http-io';
import { parseResultFile } from './job-views';
import { RESULTS_PREFIX, serveResult } from './presign';
import type { Route } from './router';
import { batchRoutes } from './routes-batches';
import { directoryRoutes } from './routes-directories';
import { jobRoutes } from './routes-jobs';
import type { RecordedRequest } from './types';

interface Outcome {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function createEmulatorServer(ctx: EmulatorContext, requests: RecordedRequest[]): Server {
  const routes = [...directoryRoutes(ctx), ...batchRoutes(ctx), ...jobRoutes(ctx)];
  return createServer((req, res) => {
    handle(ctx, routes, requests, req, res).catch((err) => {
      if (ctx.scope.closed || isConnectionGone(err, req)) return void res.destroy();
      ctx.reportError(err);
      if (!res.headersSent) sendJson(res, 500, { detail: 'internal emulator error' });
      else res.destroy();
    });
  });
}

async function handle(ctx: EmulatorContext, routes: Route[], requests: RecordedRequest[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  if (url.pathname.startsWith(RESULTS_PREFIX)) {
    return serveResult(req, res, url, ctx.signer, (jobId, name) => {
      const job = ctx.store.jobs.get(jobId);
      return job && parseResultFile(job, name);
    });
  }

  const method = req.method ?? 'GET';
  const record: RecordedRequest = recordOf(req, url, 'authorization');
  requests.push(record);

  const match = matchRoute(routes, method, url.pathname);
  const streaming = match.kind === 'found' && match.route.body === 'stream';
  let outcome: Outcome;
  try {
    outcome = await dispatch(ctx, req, url, record, match, streaming);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    outcome = { status: err.status, body: { detail: err.detail }, headers: err.headers };
  }
  // A stream route rejected before (or while) reading its body: read the rest so the client sees the answer.
  if (streaming && !req.readableEnded) await drainBody(req);
  record.status = outcome.status;
  sendJson(res, outcome.status, outcome.body, outcome.headers);
}

async function dispatch(
  ctx: EmulatorContext,
  req: IncomingMessage,
  url: URL,
  record: RecordedRequest,
  match: RouteMatch<Route>,
  streaming: boolean,
): Promise<Outcome> {
  let body: unknown;
  let bodyError: HttpError | undefined;
  if (!streaming) {
    try {
      body = parseJsonBody(await readBody(req));
      record.body = body;
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      bodyError = err;
    }
  }

  const injected = ctx.faults.take(record.method, url.pathname, { target: req.url ?? url.pathname, body });
  if (injected) return injected;
  if (!bearerMatches(req.headers.authorization, ctx.options.apiKey)) {
    throw new HttpError(401, 'Invalid authentication credentials', { 'www-authenticate': 'Bearer' });
  }
  if (match.kind === 'none') throw new HttpError(404, 'Not Found');
  if (match.kind === 'wrong-method') throw new HttpError(405, 'Method Not Allowed');
  if (bodyError) throw bodyError;

  const result = await match.route.handler({
    params: match.params,
    query: record.query,
    search: url.searchParams,
    body,
    raw: req,
    record,
  });
  return { status: 200, body: result };
}

function bearerMatches(header: string | undefined, expected: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(expected));
}
