/** Starting an emulator's HTTP server and stopping it together with its background work. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskScope } from './task-scope';

export interface Listening {
  /** `http://host:port`, with an IPv6 host in brackets. */
  url: string;
  /** Stops accepting, drops open connections and closes `scope`; repeated calls share the first close. */
  close(): Promise<void>;
}

export async function listen(server: Server, address: { host: string; port: number }, scope: TaskScope): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await scope.close();
      await stopped;
    })());
  return { url, close };
}
