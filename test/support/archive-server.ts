import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/** A member of a test archive: a name and its body (or a link / directory entry). */
export type TestMember = [name: string, body: string] | { name: string; type: 'directory' | 'symlink'; linkname?: string };

/** The bytes of a .tar holding `members`, in order (names are written as given, aliases and `..` included). */
export async function tarOf(members: TestMember[]): Promise<Buffer> {
  const p = pack();
  for (const m of members) {
    if (Array.isArray(m)) p.entry({ name: m[0] }, m[1]);
    else p.entry({ name: m.name, type: m.type, linkname: m.linkname });
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export const targzOf = async (members: TestMember[]) => gzipSync(await tarOf(members));

/** What the server should answer on a path. */
export type Route =
  /** The bytes, with their Content-Length (and `Connection: close` when `close`). */
  | { kind: 'bytes'; body: Buffer; close?: boolean }
  /** A .tar.gz with one member of `bytes` zero bytes, compressed as it is sent (nothing held whole). */
  | { kind: 'bomb'; member: string; bytes: number }
  /** Content-Length `length`, then one byte every `everyMs` (an idle timeout never fires). */
  | { kind: 'trickle'; length: number; everyMs: number }
  /** The first `failures` requests send half the bytes and drop the connection; later ones send it all. */
  | { kind: 'drop-first'; body: Buffer; failures: number }
  /** The first request sends `chunkBytes` every `everyMs`; later ones send it all at once. */
  | { kind: 'slow-first'; body: Buffer; chunkBytes: number; everyMs: number };

export interface ArchiveServer {
  base: string;
  /** Requests per path. */
  requests: Map<string, number>;
  /** Bytes written to the socket per path (compressed bytes for bombs). */
  sent: Map<string, number>;
  serve(path: string, route: Route): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback serving result files, good and hostile. Every loop stops when the
 * client goes. `keepAliveTimeoutMs`: how soon it closes a connection after a response.
 */
export async function startArchiveServer(options: { keepAliveTimeoutMs?: number } = {}): Promise<ArchiveServer> {
  const routes = new Map<string, Route>();
  const requests = new Map<string, number>();
  const sent = new Map<string, number>();
  const count = (path: string, bytes: number) => sent.set(path, (sent.get(path) ?? 0) + bytes);

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes.get(path);
    const n = (requests.get(path) ?? 0) + 1;
    requests.set(path, n);
    if (!route) return void res.writeHead(404).end();
    switch (route.kind) {
      case 'bytes':
        count(path, route.body.length);
        if (route.close) res.setHeader('connection', 'close');
        return void res.writeHead(200, { 'content-length': route.body.length }).end(route.body);
      case 'drop-first':
        res.writeHead(200, { 'content-length': route.body.length });
        if (n > route.failures) {
          count(path, route.body.length);
          return void res.end(route.body);
        }
        res.write(route.body.subarray(0, route.body.length >> 1), () => res.destroy());
        return;
      case 'trickle':
        return trickle(res, route.length, route.everyMs, (b) => count(path, b));
      case 'slow-first':
        if (n > 1) {
          count(path, route.body.length);
          return void res.writeHead(200, { 'content-length': route.body.length }).end(route.body);
        }
        return paced(res, route.body, route.chunkBytes, route.everyMs, (b) => count(path, b));
      case 'bomb':
        return void bomb(res, route.member, route.bytes, (b) => count(path, b)).catch(() => res.destroy());
    }
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    sent,
    serve: (path, route) => void routes.set(path, route),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function trickle(res: ServerResponse, length: number, everyMs: number, counted: (bytes: number) => void) {
  res.writeHead(200, { 'content-length': length });
  let left = length;
  const timer = setInterval(() => {
    if (res.destroyed || left === 0) return void clearInterval(timer);
    left--;
    counted(1);
    res.write('x');
    if (left === 0) res.end();
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

function paced(res: ServerResponse, body: Buffer, chunkBytes: number, everyMs: number, counted: (bytes: number) => void) {
  res.writeHead(200, { 'content-length': body.length });
  let at = 0;
  const timer = setInterval(() => {
    if (res.destroyed || at >= body.length) return void clearInterval(timer);
    const chunk = body.subarray(at, at + chunkBytes);
    at += chunk.length;
    counted(chunk.length);
    res.write(chunk);
    if (at >= body.length) res.end();
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

/** Streams gzip(tar(one member of zeros)) with back-pressure: only what the client reads is ever made. */
async function bomb(res: ServerResponse, member: string, bytes: number, counted: (bytes: number) => void) {
  res.writeHead(200, { 'content-type': 'application/gzip' });
  const p = pack();
  const gzip = createGzip({ level: 9 });
  gzip.on('data', (c: Buffer) => counted(c.length));
  // Rejects when the client goes away (premature close): that ends the bomb, it is no failure.
  const sending = pipeline(p, gzip, res).catch(() => undefined);
  const zeros = Buffer.alloc(1 << 20);
  const entry = p.entry({ name: member, size: bytes });
  entry.on('error', () => undefined);
  let wake = () => {};
  entry.on('drain', () => wake());
  res.once('close', () => wake());
  let left = bytes;
  while (left > 0 && !res.destroyed) {
    const n = Math.min(left, zeros.length);
    left -= n;
    if (!entry.write(n === zeros.length ? zeros : zeros.subarray(0, n))) await new Promise<void>((resolve) => (wake = resolve));
  }
  if (!res.destroyed) {
    entry.end(Buffer.alloc(0));
    p.finalize();
  }
  await sending;
}
