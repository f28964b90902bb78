import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';

/**
 * Keeps at most `max` connections open. A slow-loris connection holds its place by never finishing
 * its request head, so at the cap the oldest connection not serving a request gives way: a webhook
 * sends its request at once and is served, while heads that never end keep replacing each other.
 */
export function connectionCap(max: number, warn: (fields: Record<string, unknown>) => void) {
  /** Open connections in the order they arrived; true while one serves a request. */
  const open = new Map<Socket, boolean>();
  return {
    admit(socket: Socket): void {
      if (open.size >= max) {
        const waiting = [...open].find(([, busy]) => !busy)?.[0];
        warn({ maxConnections: max });
        if (!waiting) return void socket.destroy();
        waiting.destroy();
        open.delete(waiting);
      }
      open.set(socket, false);
      socket.once('close', () => open.delete(socket));
    },
    serving(socket: Socket, res: ServerResponse): void {
      if (!open.has(socket)) return;
      open.set(socket, true);
      res.once('close', () => open.has(socket) && open.set(socket, false));
    },
  };
}
