import { connect, type Socket } from 'node:net';

/** What a raw connection saw: the bytes the server sent and whether the server closed it in time. */
export interface RawOutcome {
  response: string;
  /** The status code of the first response line, if any arrived. */
  status?: number;
  closed: boolean;
}

/** Opens a TCP connection to an http://host:port URL and resolves once connected. */
export function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Collects what the server sends until it closes the connection, or `withinMs` passes (then the
 * socket is destroyed and `closed` is false).
 */
export function untilClosed(socket: Socket, withinMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let response = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1];
      resolve({ response, status: status ? Number(status) : undefined, closed });
    };
    const onData = (chunk: Buffer) => (response += chunk.toString('latin1'));
    const timer = setTimeout(() => done(false), withinMs);
    socket.on('data', onData);
    // A server that resets the connection has closed it too.
    socket.on('error', () => {});
    socket.once('close', () => done(true));
    if (socket.destroyed) done(true);
  });
}

/** Resolves with the first complete response head (status line and headers) the server sends. */
export function firstResponse(socket: Socket, withinMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let seen = '';
    const done = (status: number | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(status);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      const head = /^HTTP\/1\.[01] (\d{3})[^]*?\r\n\r\n/.exec(seen);
      if (head) done(Number(head[1]));
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(() => done(undefined), withinMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** The head of an HTTP/1.1 request, ready to write to a raw socket. */
export function requestHead(method: string, path: string, headers: Record<string, string | number> = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
