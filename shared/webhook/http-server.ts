import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors';
import type { ChainDeps, FollowUp } from '../pipeline/chain';
import { receiveWebhook } from './receive';

/** Notifications are small JSON documents; anything larger is not from Roboflow. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookServerOptions {
  secret: string;
  host: string;
  port: number;
  /** Runs after the reply has been sent; errors are logged, never surfaced to the caller. */
  onFollowUp: (followUp: FollowUp) => Promise<unknown>;
}

export interface RunningWebhookServer {
  url: string;
  /** Resolves when follow-ups started so far have settled. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The node:http front of receiveWebhook, used by the CLI and the demo. */
export async function startWebhookServer(deps: ChainDeps, options: WebhookServerOptions): Promise<RunningWebhookServer> {
  const inFlight = new Set<Promise<unknown>>();
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'body too large' }));
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const receiver = { state: deps.state, log: deps.log, parseWebhook: deps.target.parseWebhook.bind(deps.target) };
    const reply = await receiveWebhook(receiver, options.secret, { method: req.method ?? 'GET', path, headers: req.headers, body });
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    if (reply.followUp) {
      const work = options.onFollowUp(reply.followUp).catch((err) => deps.log.error('follow-up failed', { ...reply.followUp, error: errorMessage(err) }));
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
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

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
