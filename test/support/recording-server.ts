import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, Response, type Dispatcher, type FormData } from 'undici';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Raw (still percent-encoded) path, without the query string. */
  pathname: string;
  /** Raw query string including the leading `?`, or '' when there is none. */
  search: string;
  /** Decoded query parameters (last value wins for repeated keys). */
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** rawBody decoded as UTF-8. */
  text: string;
  /** Parsed JSON body; undefined when the body is empty or is not JSON. */
  json: unknown;
}

/** What to answer. `hang: 'headers'` never answers; `hang: 'body'` sends headers and stalls the body. */
export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Serialised as JSON (content-type application/json) unless `body` is given. */
  json?: unknown;
  body?: string | Buffer;
  hang?: 'headers' | 'body';
}

export type Route = (req: RecordedRequest) => ScriptedResponse | Promise<ScriptedResponse>;

export interface RecordingServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Responses used first, one per request, in order. */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Fallback when the queue is empty. */
  setRoute(route: Route | undefined): void;
  /** Forget recorded requests, the queue and the route. */
  reset(): void;
  close(): Promise<void>;
}

export async function startRecordingServer(route?: Route): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedResponse[] = [];
  let fallback = route;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const text = rawBody.toString('utf8');
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const pathname = q === -1 ? rawUrl : rawUrl.slice(0, q);
      const search = q === -1 ? '' : rawUrl.slice(q);
      let json: unknown;
      if (text !== '') {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        pathname,
        search,
        query: Object.fromEntries(new URLSearchParams(search)),
        headers: req.headers,
        rawBody,
        text,
        json,
      };
      requests.push(recorded);
      void answer(recorded, res);
    });
  });

  async function answer(recorded: RecordedRequest, res: ServerResponse) {
    let scripted: ScriptedResponse;
    try {
      const next = queue.shift();
      if (next) scripted = next;
      else if (fallback) scripted = await fallback(recorded);
      else scripted = { status: 500, json: { error: `recording-server: nothing scripted for ${recorded.method} ${recorded.pathname}` } };
    } catch (err) {
      scripted = { status: 500, json: { error: `recording-server route threw: ${(err as Error).message}` } };
    }
    if (scripted.hang === 'headers') return; // never answer; close() destroys the socket
    const body = scripted.body ?? (scripted.json === undefined ? '' : JSON.stringify(scripted.json));
    const headers: Record<string, string> = { ...scripted.headers };
    if (scripted.body === undefined && scripted.json !== undefined && !hasHeader(headers, 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    if (scripted.hang === 'body') {
      res.writeHead(scripted.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(body) + 1000) });
      res.write(body);
      return; // body never completes
    }
    res.writeHead(scripted.status ?? 200, headers);
    res.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    enqueue: (...responses) => queue.push(...responses),
    setRoute: (r) => {
      fallback = r;
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      fallback = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function hasHeader(headers: Record<string, string>, name: string) {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Parses a recorded multipart/form-data body. */
export async function parseMultipart(req: RecordedRequest): Promise<FormData> {
  const contentType = req.headers['content-type'];
  if (!contentType?.startsWith('multipart/form-data')) throw new Error(`not multipart: ${String(contentType)}`);
  return new Response(new Uint8Array(req.rawBody), { headers: { 'content-type': contentType } }).formData();
}

/** A loopback port with nothing listening on it (connection refused). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An undici Agent that records the options of every dispatched request (e.g. its timeouts). */
export class RecordingAgent extends Agent {
  readonly dispatched: Dispatcher.DispatchOptions[] = [];

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.dispatched.push(options);
    return super.dispatch(options, handler);
  }
}
