import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors';
import type { ChainDeps, FollowUp } from '../pipeline/chain';
import { connectionCap } from './connection-cap';
import { rateLimitedWarning } from './rate-limited-warning';
import { receiveWebhook, refuseRequestLine, type WebhookReply } from './receive';

/** What clients may cost the receiver. Every limit but `maxConnections` holds per request. */
export interface WebhookServerLimits {
  /** Time to receive a request's headers (bounds slow-loris connections); answered 408. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included; answered 408. Not less than `headersTimeoutMs`. */
  requestTimeoutMs: number;
  /**
   * Connections open at once. At the cap, a new connection takes the place of the oldest one not
   * serving a request (a slow-loris head, an idle keep-alive); when every one is, it is closed.
   */
  maxConnections: number;
  /** Largest body read; notifications are small JSON documents. Answered 413. */
  maxBodyBytes: number;
}

export const DEFAULT_WEBHOOK_LIMITS: WebhookServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 128,
  maxBodyBytes: 1024 * 1024,
};

export interface WebhookServerOptions {
  secret: string;
  host: string;
  port: number;
  /** Runs after the reply has been sent; errors are logged, never surfaced to the caller. */
  onFollowUp: (followUp: FollowUp) => Promise<unknown>;
  limits?: Partial<WebhookServerLimits>;
}

export interface RunningWebhookServer {
  url: string;
  /** Resolves when follow-ups started so far have settled. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** A receiver-level problem (connections closed at the cap, accept failures) is logged at most this often. */
const WARN_EVERY_MS = 10_000;

/**
 * The node:http front of receiveWebhook, used by the CLI and the demo. The request line is judged
 * before a byte of the body is read; whatever one request does (abort, stall, oversize, garbage)
 * ends that request only.
 */
export async function startWebhookServer(deps: ChainDeps, options: WebhookServerOptions): Promise<RunningWebhookServer> {
  const limits = { ...DEFAULT_WEBHOOK_LIMITS, ...options.limits };
  const inFlight = new Set<Promise<unknown>>();
  const receiver = { state: deps.state, log: deps.log, parseWebhook: deps.target.parseWebhook.bind(deps.target) };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refusal = refuseRequestLine(options.secret, { method, path });
    if (refusal) return answerAndClose(res, refusal);
    if (Number(req.headers['content-length']) > limits.maxBodyBytes) return answerAndClose(res, TOO_LARGE);
    const body = await readBody(req, limits.maxBodyBytes);
    if (body === undefined) return answerAndClose(res, TOO_LARGE);
    const reply = await receiveWebhook(receiver, options.secret, { method, path, headers: req.headers, body });
    answer(res, reply);
    if (reply.followUp) {
      const work = options.onFollowUp(reply.followUp).catch((err) => deps.log.error('follow-up failed', { ...reply.followUp, error: errorMessage(err) }));
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    }
  }

  const atCap = rateLimitedWarning(deps.log, 'webhook receiver at its connection cap: closing connections that have not sent a request', WARN_EVERY_MS);
  const connections = connectionCap(limits.maxConnections, atCap);
  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both timeouts on this interval (30 s by default, longer than our header timeout).
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      // An aborted or reset request errors its streams; the rejection below covers the handler.
      req.on('error', () => {});
      res.on('error', () => {});
      connections.serving(req.socket, res);
      handle(req, res).catch((err) => {
        deps.log.debug('webhook request dropped', { error: errorMessage(err) });
        if (res.headersSent || req.destroyed) res.destroy();
        else answerAndClose(res, { status: 500, body: { error: 'internal error' } });
      });
    },
  );
  server.on('connection', connections.admit);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, errors come from accepting connections (EMFILE, ENFILE): the server goes on.
  const failing = rateLimitedWarning(deps.log, 'webhook receiver could not accept a connection', WARN_EVERY_MS);
  server.on('error', (err) => failing({ error: errorMessage(err) }));

  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const TOO_LARGE: WebhookReply = { status: 413, body: { error: 'body too large' } };

function answer(res: ServerResponse, reply: WebhookReply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
}

/** Answers without reading the rest of the body: the connection closes once the answer is sent. */
function answerAndClose(res: ServerResponse, reply: WebhookReply): void {
  res.setHeader('connection', 'close');
  answer(res, reply);
}

/** The body as text, or undefined once it passes `maxBytes`; rejects when the request aborts or times out. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
