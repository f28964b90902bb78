import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainDeps } from '../../shared/pipeline/chain';
import { silentLogger } from '../../shared/log';
import { FileStateStore } from '../../shared/state/file-state';
import { RoboflowClient } from '../../shared/targets/roboflow/client';
import { RoboflowTarget } from '../../shared/targets/roboflow/target';
import type { ObjectStore } from '../../shared/storage/port';
import { startWebhookServer, type RunningWebhookServer } from '../../shared/webhook/http-server';
import { webhookPath } from '../../shared/webhook/receive';
import { tempDir } from '../support/domain';
import { firstResponse, openSocket, requestHead, untilClosed } from '../support/raw-http';

const SECRET = 's'.repeat(43);
const LIMITS = { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 4, maxBodyBytes: 4096 };
/** Comfortably past every limit above, yet far below Node's defaults (60 s headers, 300 s request). */
const WITHIN_MS = 2500;

describe('webhook receiver under hostile connections (raw sockets)', () => {
  let server: RunningWebhookServer;
  const sockets: Socket[] = [];
  const open = async () => {
    const socket = await openSocket(server.url);
    sockets.push(socket);
    return socket;
  };
  /** One request on its own connection (`Connection: close`): the status the server answers. */
  const statusOf = async (method: string, path: string, body = '') => {
    const socket = await open();
    const headers = { connection: 'close', authorization: 'Bearer rf_abc123', 'content-length': Buffer.byteLength(body) };
    socket.write(requestHead(method, path, headers) + body);
    return (await untilClosed(socket, WITHIN_MS)).status;
  };

  let deps: ChainDeps;
  const serverOptions = { secret: SECRET, host: '127.0.0.1', port: 0, onFollowUp: async () => {}, limits: LIMITS };
  /** Lets the receiver (in this process) accept and read what was just sent. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  beforeEach(async () => {
    // Nothing here reaches the target or the destination: these requests end before or at parsing.
    const target = new RoboflowTarget(new RoboflowClient({ apiKey: 'unused', workspace: 'w', apiUrl: 'http://127.0.0.1:9' }));
    deps = { state: new FileStateStore(await tempDir('bb-hostile-')), dest: {} as ObjectStore, target, log: silentLogger };
    server = await startWebhookServer(deps, serverOptions);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await server.close();
  });

  it.each([
    ['a wrong path token', webhookPath('x'.repeat(43)), 401],
    ['no path token', '/webhooks/', 401],
    ['another path', '/elsewhere', 404],
  ])('answers %s before a byte of the body is sent, and closes the connection', async (_label, path, status) => {
    const socket = await open();
    socket.write(requestHead('POST', path, { 'content-length': 1_000_000, 'content-type': 'application/json' }));
    const outcome = await untilClosed(socket, WITHIN_MS);
    expect(outcome.status).toBe(status);
    expect(outcome.closed).toBe(true);
  });

  it('stops reading an unauthenticated body that is already arriving', async () => {
    const socket = await open();
    socket.write(requestHead('POST', webhookPath('y'.repeat(43)), { 'content-length': 1_000_000 }));
    socket.write('{"padding":"');
    expect(await firstResponse(socket, WITHIN_MS)).toBe(401);
    // The server closed its side: more body goes nowhere and the connection ends.
    socket.write('z'.repeat(64 * 1024));
    expect((await untilClosed(socket, WITHIN_MS)).closed).toBe(true);
  });

  it('drops a POST aborted mid-body (Content-Length 1000, 11 bytes) and keeps serving', async () => {
    const stray: unknown[] = [];
    const onRejection = (reason: unknown) => stray.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      for (let i = 0; i < 3; i++) {
        const socket = await open();
        socket.write(requestHead('POST', webhookPath(SECRET), { 'content-length': 1000, 'content-type': 'application/json' }) + '{"type":"ro');
        await new Promise((resolve) => setTimeout(resolve, 30));
        socket.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stray).toEqual([]);
      expect(await statusOf('GET', webhookPath(SECRET))).toBe(405);
      expect(await statusOf('POST', webhookPath(SECRET), '{"type": ')).toBe(400);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('answers 413 to a declared body over the cap without waiting for it', async () => {
    const socket = await open();
    socket.write(requestHead('POST', webhookPath(SECRET), { 'content-length': LIMITS.maxBodyBytes + 1 }));
    const outcome = await untilClosed(socket, WITHIN_MS);
    expect(outcome.status).toBe(413);
    expect(outcome.closed).toBe(true);
  });

  it('answers 413 to a chunked body once it passes the cap', async () => {
    const socket = await open();
    socket.write(requestHead('POST', webhookPath(SECRET), { 'transfer-encoding': 'chunked' }));
    const chunk = 'a'.repeat(1024);
    for (let i = 0; i < 5; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    expect(await firstResponse(socket, WITHIN_MS)).toBe(413);
    expect((await untilClosed(socket, WITHIN_MS)).closed).toBe(true);
  });

  it('closes a connection whose headers trickle in past the header timeout (slow loris)', async () => {
    const socket = await open();
    socket.write(`POST ${webhookPath(SECRET)} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    let n = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed && n < 100) socket.write(`X-Slow-${n++}: 1\r\n`);
    }, 50);
    try {
      const outcome = await untilClosed(socket, WITHIN_MS);
      expect(outcome.closed).toBe(true);
      expect(outcome.status).toBe(408);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a connection that sends nothing at all within the header timeout', async () => {
    const outcome = await untilClosed(await open(), WITHIN_MS);
    expect(outcome.closed).toBe(true);
  });

  it('closes an authenticated request whose body stalls past the request timeout', async () => {
    const socket = await open();
    socket.write(requestHead('POST', webhookPath(SECRET), { 'content-length': 1000 }) + '{"type":"r');
    const outcome = await untilClosed(socket, WITHIN_MS);
    expect(outcome.closed).toBe(true);
    expect(outcome.status).toBe(408);
  });

  it('at the cap, lets a webhook in by closing the oldest connection that has not sent a request', async () => {
    await server.close();
    // Longer timeouts here: the slow-loris heads must still be waiting when the webhook arrives.
    server = await startWebhookServer(deps, { ...serverOptions, limits: { ...LIMITS, headersTimeoutMs: 5000, requestTimeoutMs: 5000 } });
    const closed = new Set<number>();
    for (let i = 0; i < LIMITS.maxConnections; i++) {
      const socket = await open();
      socket.once('close', () => closed.add(i));
      socket.write(`POST /webhooks/x HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    }
    await settle();
    expect(closed.size).toBe(0);
    expect(await statusOf('POST', webhookPath(SECRET), '{')).toBe(400);
    await settle();
    expect([...closed]).toEqual([0]);
  });

  it('at the cap, closes a newcomer while every connection is serving a request', async () => {
    for (let i = 0; i < LIMITS.maxConnections; i++) {
      (await open()).write(requestHead('POST', webhookPath(SECRET), { authorization: 'Bearer rf_abc123', 'content-length': 1000 }) + '{"type":"r');
    }
    await settle();
    expect(await untilClosed(await open(), WITHIN_MS)).toEqual({ response: '', status: undefined, closed: true });
    // Their bodies never come: the request timeout closes them, and the receiver serves again.
    let status: number | undefined;
    for (let attempt = 0; attempt < 40 && status !== 400; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await statusOf('POST', webhookPath(SECRET), '{');
    }
    expect(status).toBe(400);
  });
});
