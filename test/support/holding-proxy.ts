import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy that can keep answers from the client: a held request still reaches the
 * server (which acts on it), but its answer never comes back, as when a process dies between a
 * remote call succeeding and recording that it did.
 */
export async function startHoldingProxy(target: string) {
  const upstream = new URL(target);
  let hold: { match: (req: IncomingMessage) => boolean; after: number } | undefined;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const keep = hold !== undefined && hold.match(req) && hold.after-- <= 0;
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (keep) {
        up.resume();
        held.push(res);
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Answers of matching requests after the first `after` are kept from the client. */
    holdAnswers(match: (req: IncomingMessage) => boolean, after = 0) {
      hold = { match, after };
    },
    held: () => held.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
