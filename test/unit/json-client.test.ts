import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { RemoteError } from '../../shared/errors';
import { JsonClient, type JsonClientOptions } from '../../shared/http/json-client';
import { startRecordingServer, unusedPort, type RecordingServer } from '../support/recording-server';

const KEY = 'secret-key';
const Thing = z.object({ ok: z.boolean() });

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

type RetryInfo = Parameters<NonNullable<JsonClientOptions['onRetry']>>[0];

function client(overrides: Partial<JsonClientOptions> = {}) {
  const retries: RetryInfo[] = [];
  const http = new JsonClient({
    baseUrl: server.url,
    secretQuery: { api_key: KEY },
    serviceName: 'Svc',
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    onRetry: (info) => retries.push(info),
    ...overrides,
  });
  return { http, retries };
}

const get = (http: JsonClient, timeoutMs = 5_000) =>
  http.send({ method: 'GET', path: '/things/1', query: { q: 'x' }, schema: Thing, timeoutMs });

async function failure(promise: Promise<unknown>): Promise<RemoteError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  return err as RemoteError;
}

describe('JsonClient: request shape', () => {
  it('sends the secret query on every call, merges request query and drops undefined values', async () => {
    server.enqueue({ json: { ok: true } });
    const { http } = client();
    const res = await http.send({
      method: 'GET',
      path: '/a/b',
      query: { page: 2, name: 'x y', skip: undefined },
      schema: Thing,
      timeoutMs: 5_000,
    });
    expect(res).toEqual({ ok: true });
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req!.method).toBe('GET');
    expect(req!.pathname).toBe('/a/b');
    expect(req!.query).toEqual({ api_key: KEY, page: '2', name: 'x y' });
    expect(req!.headers.accept).toBe('application/json');
    expect(req!.headers['content-type']).toBeUndefined();
    expect(req!.text).toBe('');
  });

  it('POSTs a JSON body with content-type application/json', async () => {
    server.enqueue({ json: { ok: true } });
    const { http } = client();
    await http.send({ method: 'POST', path: '/p', body: { a: 1, b: [true], c: undefined }, schema: Thing, timeoutMs: 5_000 });
    const [req] = server.requests;
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.json).toEqual({ a: 1, b: [true] });
    expect(req!.text).toBe('{"a":1,"b":[true]}');
  });

  it('POST without a body sends no body and no JSON content-type', async () => {
    server.enqueue({ json: {} });
    const { http } = client();
    await http.send({ method: 'POST', path: '/p', schema: z.unknown(), timeoutMs: 5_000 });
    const [req] = server.requests;
    expect(req!.rawBody.length).toBe(0);
    expect(req!.headers['content-type']).toBeUndefined();
  });
});

describe('JsonClient: response validation', () => {
  it('returns the zod-parsed data (unknown fields stripped, defaults applied)', async () => {
    server.enqueue({ json: { ok: true, extra: 'ignored', nested: { x: 1 } } });
    const { http } = client();
    const schema = z.object({ ok: z.boolean(), n: z.number().default(3) });
    await expect(http.send({ method: 'GET', path: '/v', schema, timeoutMs: 5_000 })).resolves.toEqual({ ok: true, n: 3 });
  });

  it('rejects a response missing a required field, naming the field path', async () => {
    server.enqueue({ json: { outer: { inner: {} } } });
    const { http } = client();
    const schema = z.object({ outer: z.object({ inner: z.object({ count: z.number() }) }) });
    const err = await failure(http.send({ method: 'GET', path: '/v', schema, timeoutMs: 5_000 }));
    expect(err.message).toContain('Svc GET /v');
    expect(err.message).toContain('outer.inner.count');
    expect(err.message).not.toContain(KEY);
    expect(server.requests).toHaveLength(1); // invalid 2xx is not retried
  });

  it('rejects a 2xx body that is not JSON, without retrying', async () => {
    server.enqueue({ body: '<html>oops</html>', headers: { 'content-type': 'text/html' } });
    const { http, retries } = client();
    const err = await failure(get(http));
    expect(err.message).toMatch(/not JSON/);
    expect(server.requests).toHaveLength(1);
    expect(retries).toHaveLength(0);
  });

  it('treats an empty 2xx body as {}', async () => {
    server.enqueue({ status: 204 });
    const { http } = client();
    await expect(http.send({ method: 'POST', path: '/e', schema: z.object({}), timeoutMs: 5_000 })).resolves.toEqual({});
  });
});

describe('JsonClient: retries', () => {
  it('429 with Retry-After: 0 then 200 succeeds after 2 attempts', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '0' }, json: { error: 'slow down' } }, { json: { ok: true } });
    const { http, retries } = client({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    const started = performance.now();
    await expect(get(http)).resolves.toEqual({ ok: true });
    expect(performance.now() - started).toBeLessThan(5_000); // Retry-After 0 beat the 10 s backoff
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([{ path: '/things/1', attempt: 1, delayMs: 0, reason: 'HTTP 429: slow down' }]);
  });

  it('a burst of three 503s then 200 takes 4 attempts, reporting attempts 1..3', async () => {
    server.enqueue({ status: 503 }, { status: 503 }, { status: 503 }, { json: { ok: true } });
    const { http, retries } = client();
    await expect(get(http)).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(4);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    for (const r of retries) {
      expect(r.reason).toBe('HTTP 503');
      expect(r.delayMs).toBeGreaterThanOrEqual(0);
      expect(r.delayMs).toBeLessThanOrEqual(5);
    }
  });

  it.each([408, 502, 504])('retries HTTP %i', async (status) => {
    server.enqueue({ status, json: { error: 'transient' } }, { json: { ok: true } });
    const { http, retries } = client();
    await expect(get(http)).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.reason).toBe(`HTTP ${status}: transient`);
  });

  it('re-sends the identical request (path, query, body) on retry', async () => {
    server.enqueue({ status: 502 }, { json: { ok: true } });
    const { http } = client();
    await http.send({ method: 'POST', path: '/jobs/j', query: { name: 'n' }, body: { x: [1, 2] }, schema: Thing, timeoutMs: 5_000 });
    expect(server.requests).toHaveLength(2);
    const [a, b] = server.requests;
    expect(b!.method).toBe(a!.method);
    expect(b!.pathname).toBe(a!.pathname);
    expect(b!.query).toEqual({ api_key: KEY, name: 'n' });
    expect(a!.query).toEqual(b!.query);
    expect(b!.text).toBe(a!.text);
    expect(b!.json).toEqual({ x: [1, 2] });
  });

  it('honours a Retry-After in seconds (waits it, reports it)', async () => {
    server.enqueue({ status: 503, headers: { 'retry-after': '1' } }, { json: { ok: true } });
    const { http, retries } = client();
    const started = performance.now();
    await expect(get(http)).resolves.toEqual({ ok: true });
    const elapsed = performance.now() - started;
    expect(retries.map((r) => r.delayMs)).toEqual([1_000]);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('caps a long Retry-After at maxRetryAfterMs', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '3600' } }, { json: { ok: true } });
    const { http, retries } = client({ retry: { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 20 } });
    await expect(get(http)).resolves.toEqual({ ok: true });
    expect(retries.map((r) => r.delayMs)).toEqual([20]);
  });

  it('gives up after maxAttempts with a retryable RemoteError naming the attempts and status', async () => {
    server.setRoute(() => ({ status: 503, json: { error: 'overloaded' } }));
    const { http, retries } = client({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const err = await failure(get(http));
    expect(server.requests).toHaveLength(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(err.message).toBe('Svc GET /things/1 failed after 3 attempts: HTTP 503: overloaded');
    expect(err.status).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.message).not.toContain(KEY);
  });

  it('maxAttempts 1 means no retry at all', async () => {
    server.setRoute(() => ({ status: 429 }));
    const { http, retries } = client({ retry: { maxAttempts: 1 } });
    const err = await failure(get(http));
    expect(server.requests).toHaveLength(1);
    expect(retries).toHaveLength(0);
    expect(err.message).toMatch(/after 1 attempts: HTTP 429/);
  });
});

describe('JsonClient: non-retryable statuses', () => {
  it.each([500, 400, 401, 402, 404, 409])('HTTP %i is not retried; the message has status and server error, not the key', async (status) => {
    server.setRoute(() => ({ status, json: { error: `server says no (${status})` } }));
    const { http, retries } = client();
    const err = await failure(get(http));
    expect(server.requests).toHaveLength(1);
    expect(retries).toHaveLength(0);
    expect(err.status).toBe(status);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(`Svc GET /things/1 failed: HTTP ${status}: server says no (${status})`);
    expect(err.message).not.toContain(KEY);
    expect(err.message).not.toContain('api_key');
  });

  it('uses `message` when the error body has no `error`, and raw text for non-JSON bodies', async () => {
    server.enqueue({ status: 400, json: { message: 'bad field' } }, { status: 404, body: 'plain not found' });
    const { http } = client();
    expect((await failure(get(http))).message).toBe('Svc GET /things/1 failed: HTTP 400: bad field');
    expect((await failure(get(http))).message).toBe('Svc GET /things/1 failed: HTTP 404: plain not found');
  });

  it('never leaks the key even when the server echoes the request URL in its error', async () => {
    server.setRoute((req) => ({ status: 404, json: { error: `no route for ${req.pathname}${req.search}` } }));
    const { http } = client();
    const err = await failure(get(http));
    expect(err.message).toContain('HTTP 404');
    expect(err.message).toContain('/things/1');
    expect(err.message).not.toContain(KEY);

    const special = 'k/ey+1 x';
    const { http: other } = client({ secretQuery: { api_key: special } });
    const err2 = await failure(get(other));
    expect(server.requests[1]!.query.api_key).toBe(special);
    expect(server.requests[1]!.search).not.toContain(special); // echoed percent-encoded
    expect(err2.message).not.toContain(special);
    expect(err2.message).not.toContain(encodeURIComponent(special));
    expect(err2.message).not.toContain(new URLSearchParams({ k: special }).toString().slice(2));
  });
});

describe('JsonClient: network failures and timeouts', () => {
  it('retries a server that never sends headers (timeout) and then gives up', async () => {
    server.setRoute(() => ({ hang: 'headers' }));
    const { http, retries } = client({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    const started = performance.now();
    const err = await failure(get(http, 150));
    const elapsed = performance.now() - started;
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([expect.objectContaining({ attempt: 1, reason: 'timed out' })]);
    expect(err.message).toBe('Svc GET /things/1 failed after 2 attempts: timed out');
    expect(err.retryable).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('a header timeout followed by a good answer succeeds', async () => {
    server.enqueue({ hang: 'headers' }, { json: { ok: true } });
    const { http, retries } = client();
    await expect(get(http, 150)).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    expect(retries.map((r) => r.reason)).toEqual(['timed out']);
  });

  it('a stalled body times out and is retried', async () => {
    server.enqueue({ hang: 'body', body: '{"ok":' }, { json: { ok: true } });
    const { http, retries } = client();
    await expect(get(http, 150)).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    expect(retries.map((r) => r.reason)).toEqual(['timed out']);
  });

  it('connection refused is retried, then fails with a message after maxAttempts', async () => {
    const port = await unusedPort();
    const { http, retries } = client({ baseUrl: `http://127.0.0.1:${port}`, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const err = await failure(get(http));
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(retries.every((r) => r.reason === 'network error ECONNREFUSED')).toBe(true);
    expect(err.message).toBe('Svc GET /things/1 failed after 3 attempts: network error ECONNREFUSED');
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
    expect(err.message).not.toContain(KEY);
  });
});

describe('JsonClient: huge error bodies', () => {
  it('reads a bounded head of a 50 MB error body, stops reading, and reports it scrubbed and bounded', async () => {
    const total = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    let closed!: () => void;
    const socketClosed = new Promise<void>((resolve) => (closed = resolve));
    const hostile = createServer((req, res) => {
      req.resume();
      res.once('close', () => closed());
      res.writeHead(400, { 'content-type': 'text/plain', 'content-length': String(total) });
      const head = Buffer.from(`refused ${KEY} \u001b[31m`);
      res.write(head);
      sent += head.length;
      const pump = () => {
        while (sent < total && !res.destroyed) {
          const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        if (sent >= total) res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const { http, retries } = client({ baseUrl: `http://127.0.0.1:${(hostile.address() as AddressInfo).port}` });
      const err = await failure(get(http));
      await socketClosed;
      expect(retries).toHaveLength(0);
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/^Svc GET \/things\/1 failed: HTTP 400: refused \[redacted\] {2}\[31mx+… \[\d+ more characters\]$/);
      expect(err.message).not.toContain(KEY);
      expect(err.message.length).toBeLessThan(600);
      // The client stopped after its bounded head; what was sent beyond it sat in socket buffers.
      expect(sent).toBeLessThan(total / 4);
    } finally {
      hostile.closeAllConnections();
      await new Promise<void>((resolve) => hostile.close(() => resolve()));
    }
  }, 20_000);
});
