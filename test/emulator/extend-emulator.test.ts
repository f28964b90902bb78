import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startExtendEmulator, type ExtendEmulatorOptions, type RunningExtendEmulator } from '../../sandbox/extend-emulator/index';

const API_KEY = 'extend-test-key-7c2d';
const VERSION = '2026-02-09';
const WAIT_MS = 10_000;
// Stands in for the signature part of a presigned URL; it must never show up in run data.
const URL_SECRET = 'X-Amz-Signature=deadbeefcafe';

// ---------- local fixture server: input files and a webhook receiver ----------

interface Hook {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: any;
}

interface Fixture {
  url: string;
  hooks: Hook[];
  /** GET count per path (no query). */
  hits: Map<string, number>;
  /** The next N webhook deliveries are answered 500. */
  failHooks: { count: number };
  /** Responses of `/slow/...` requests still held open. */
  held: Set<ServerResponse>;
  /** How many held requests were aborted by the client. */
  aborted: { count: number };
  close(): Promise<void>;
}

const fileBytes = (name: string) =>
  name.endsWith('.pdf')
    ? Buffer.from(`%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n2 0 obj << /Type /Page >> endobj\n% ${name}\n`)
    : Buffer.from(`plain file ${name}\n`);

async function startFixture(): Promise<Fixture> {
  const hooks: Hook[] = [];
  const hits = new Map<string, number>();
  const failHooks = { count: 0 };
  const held = new Set<ServerResponse>();
  const aborted = { count: 0 };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://fixture');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'POST' && url.pathname === '/hooks') {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      hooks.push({ headers: req.headers, rawBody, body: JSON.parse(rawBody) });
      const fail = failHooks.count > 0;
      if (fail) failHooks.count -= 1;
      res.writeHead(fail ? 500 : 204).end();
      return;
    }
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const [, kind, name] = url.pathname.split('/');
    if (kind === 'files' && name) {
      res.writeHead(200, { 'content-type': name.endsWith('.pdf') ? 'application/pdf' : 'text/plain' }).end(fileBytes(name));
    } else if (kind === 'slow') {
      held.add(res);
      res.on('close', () => {
        if (held.delete(res) && !res.writableEnded) aborted.count += 1;
      });
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hooks,
    hits,
    failHooks,
    held,
    aborted,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------- helpers ----------

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra: Partial<ExtendEmulatorOptions> = {}): Promise<{ emu: RunningExtendEmulator; fx: Fixture }> {
  const fx = await startFixture();
  cleanups.push(fx.close);
  const emu = await startExtendEmulator({ apiKey: API_KEY, webhookUrl: `${fx.url}/hooks`, runDelayMs: 10, ...extra });
  cleanups.push(emu.close);
  return { emu, fx };
}

const HEADERS = { authorization: `Bearer ${API_KEY}`, 'x-extend-api-version': VERSION };

async function call(
  emu: RunningExtendEmulator,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = HEADERS,
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(new URL(path, emu.url), {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const get = (emu: RunningExtendEmulator, path: string) => call(emu, 'GET', path);
const post = (emu: RunningExtendEmulator, path: string, body: unknown) => call(emu, 'POST', path, body);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const TERMINAL = ['PROCESSED', 'FAILED', 'CANCELLED'];

async function waitForBatch(emu: RunningExtendEmulator, batchId: string): Promise<any> {
  return waitFor(`batch ${batchId} to end`, async () => {
    const { body } = await get(emu, `/batch_runs/${batchId}`);
    return TERMINAL.includes(body.status) ? body : undefined;
  });
}

/** Every run of a listing, following nextPageToken; also returns each page's size. */
async function listAll(emu: RunningExtendEmulator, path: string, query: Record<string, string>) {
  const runs: any[] = [];
  const pageSizes: number[] = [];
  let token: string | undefined;
  for (let page = 0; page < 50; page++) {
    const qs = new URLSearchParams({ ...query, ...(token ? { nextPageToken: token } : {}) });
    const res = await get(emu, `${path}?${qs}`);
    expect(res.status).toBe(200);
    expect(res.body.object).toBe('list');
    runs.push(...res.body.data);
    pageSizes.push(res.body.data.length);
    token = res.body.nextPageToken;
    if (!token) return { runs, pageSizes };
  }
  throw new Error('pagination did not end');
}

/** A loopback URL nothing listens on (a port that was just released). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/nothing-here.pdf`;
}

/** Written from Extend's documented scheme, independently of the emulator's signing code. */
function verifyExtendWebhook(rawBody: string, headers: IncomingHttpHeaders, secret: string, maxAgeSeconds = 300): boolean {
  const ts = headers['x-extend-request-timestamp'];
  const sig = headers['x-extend-request-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts)) return false;
  const age = Math.floor(Date.now() / 1000) - Number(ts);
  if (age > maxAgeSeconds || age < -60) return false;
  const expected = createHmac('sha256', secret).update(`v0:${ts}:${rawBody}`).digest();
  const given = Buffer.from(sig.toLowerCase(), 'hex');
  return given.length === 32 && timingSafeEqual(given, expected);
}

// ---------- tests ----------

describe('extend emulator: authentication and request validation', () => {
  it('answers 401 UNAUTHORIZED for a wrong or missing bearer token and never records the token', async () => {
    const { emu } = await setup();
    const wrong = await call(emu, 'GET', '/batch_runs/bpr_x', undefined, { authorization: 'Bearer nope', 'x-extend-api-version': VERSION });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    expect(typeof wrong.body.message).toBe('string');
    const missing = await call(emu, 'GET', '/batch_runs/bpr_x', undefined, { 'x-extend-api-version': VERSION });
    expect(missing.status).toBe(401);
    const right = await get(emu, '/batch_runs/bpr_x');
    expect(right.status).toBe(404);
    expect(right.body.code).toBe('NOT_FOUND');

    expect(emu.requests.map((r) => r.status)).toEqual([401, 401, 404]);
    expect(emu.requests[0]!.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(emu.requests)).not.toContain(API_KEY);
  });

  it('answers 400 without x-extend-api-version or with another version', async () => {
    const { emu } = await setup();
    const missing = await call(emu, 'GET', '/extract_runs', undefined, { authorization: `Bearer ${API_KEY}` });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'INVALID_REQUEST', retryable: false });
    expect(missing.body.message).toContain('x-extend-api-version');
    const old = await call(emu, 'GET', '/extract_runs', undefined, { authorization: `Bearer ${API_KEY}`, 'x-extend-api-version': '2025-04-21' });
    expect(old.status).toBe(400);
  });

  it('rejects invalid batch submissions without creating runs', async () => {
    const { emu, fx } = await setup({ maxInputsPerBatch: 2 });
    const input = (name: string) => ({ file: { url: `${fx.url}/files/${name}` } });

    const tooMany = await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_emulated' }, inputs: [input('a'), input('b'), input('c')] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.code).toBe('INVALID_REQUEST');
    expect(tooMany.body.message).toContain('between 1 and 2');

    const empty = await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_emulated' }, inputs: [] });
    expect(empty.status).toBe(400);

    const inline = await post(emu, '/extract_runs/batch', { config: { schema: {} }, inputs: [input('a')] });
    expect(inline.status).toBe(400);
    expect(inline.body.message).toMatch(/config/);

    const bigMetadata = await post(emu, '/classify_runs/batch', {
      classifier: { id: 'cl_emulated' },
      inputs: [{ ...input('a'), metadata: { blob: 'x'.repeat(11 * 1024) } }],
    });
    expect(bigMetadata.status).toBe(400);
    expect(bigMetadata.body.message).toContain('metadata');

    const textSplit = await post(emu, '/split_runs/batch', { splitter: { id: 'sp_emulated' }, inputs: [{ file: { text: 'hello' } }] });
    expect(textSplit.status).toBe(400);
    expect(textSplit.body.message).toContain('split');

    const notUrl = await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_emulated' }, inputs: [{ file: { url: 'ftp://x/y' } }] });
    expect(notUrl.status).toBe(400);

    const unknown = await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_missing' }, inputs: [input('a')] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    const wrongType = await post(emu, '/extract_runs/batch', { extractor: { id: 'cl_emulated' }, inputs: [input('a')] });
    expect(wrongType.status).toBe(404);
    const wrongVersion = await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_emulated', version: '9.9' }, inputs: [input('a')] });
    expect(wrongVersion.status).toBe(404);

    for (const path of ['/extract_runs', '/classify_runs', '/split_runs']) {
      expect((await get(emu, path)).body.data).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(emu.runsFetched()).toBe(0);
    expect(fx.hits.size).toBe(0);
  });
});

describe('extend emulator: batch processing', () => {
  it('processes good URLs, fails undownloadable and fault-matched ones, and ends the batch PROCESSED', async () => {
    const { emu, fx } = await setup({ faults: { failUrlsMatching: /corrupt/ } });
    const submit = await post(emu, '/extract_runs/batch', {
      extractor: { id: 'ex_emulated', version: 'latest' },
      priority: 50,
      inputs: [
        { file: { url: `${fx.url}/files/good.pdf?${URL_SECRET}` }, metadata: { key: 'in/good.pdf' } },
        { file: { url: `${fx.url}/missing/gone.pdf?${URL_SECRET}` }, metadata: { key: 'in/gone.pdf' } },
        { file: { url: `${fx.url}/files/corrupt.pdf?${URL_SECRET}` }, metadata: { key: 'in/corrupt.pdf' } },
      ],
    });
    expect(submit.status).toBe(200);
    expect(Object.keys(submit.body).sort()).toEqual(['createdAt', 'id', 'object', 'runCount', 'status']);
    expect(submit.body).toMatchObject({ object: 'batch_run', status: 'PENDING', runCount: 3 });
    expect(submit.body.id).toMatch(/^bpr_[A-Za-z0-9]{22}$/);

    const batch = await waitForBatch(emu, submit.body.id);
    expect(batch).toEqual({ ...submit.body, status: 'PROCESSED' });

    const { runs } = await listAll(emu, '/extract_runs', { batchId: submit.body.id });
    const byKey = new Map(runs.map((r) => [r.metadata.key, r]));
    expect(byKey.size).toBe(3);
    const good = byKey.get('in/good.pdf')!;
    expect(good).toMatchObject({ object: 'extract_run', status: 'PROCESSED', failureReason: null, failureMessage: null });
    expect(good.id).toMatch(/^exr_/);
    expect(good.file).toMatchObject({ object: 'file', name: 'good.pdf', type: 'PDF' });

    const gone = byKey.get('in/gone.pdf')!;
    expect(gone).toMatchObject({ status: 'FAILED', failureReason: 'FAILED_TO_PROCESS_FILE', file: null });
    expect(gone.failureMessage).toContain('404');

    const corrupt = byKey.get('in/corrupt.pdf')!;
    expect(corrupt).toMatchObject({ status: 'FAILED', failureReason: 'FAILED_TO_PROCESS_FILE' });

    expect(JSON.stringify(runs)).not.toContain('deadbeefcafe');
    // The 404 URL was requested but not downloaded; the fault-matched file was downloaded, then failed.
    expect(fx.hits.get('/missing/gone.pdf')).toBe(1);
    expect(emu.runsFetched()).toBe(2);

    const failedOnly = await listAll(emu, '/extract_runs', { batchId: submit.body.id, status: 'FAILED' });
    expect(failedOnly.runs.map((r) => r.metadata.key).sort()).toEqual(['in/corrupt.pdf', 'in/gone.pdf']);
  });

  it('ends a batch FAILED when every run failed', async () => {
    const { emu, fx } = await setup();
    const submit = await post(emu, '/classify_runs/batch', {
      classifier: { id: 'cl_emulated' },
      inputs: [{ file: { url: `${fx.url}/missing/a` } }, { file: { url: await closedPortUrl() } }],
    });
    expect(submit.status).toBe(200);
    expect((await waitForBatch(emu, submit.body.id)).status).toBe('FAILED');
    const { runs } = await listAll(emu, '/classify_runs', { batchId: submit.body.id });
    expect(runs.map((r) => r.failureReason)).toEqual(['FAILED_TO_PROCESS_FILE', 'FAILED_TO_PROCESS_FILE']);
    expect(runs.map((r) => r.failureMessage).sort()).toEqual([expect.stringContaining('ECONNREFUSED'), expect.stringContaining('HTTP 404')]);
    const hook = await waitFor('batch failed webhook', () => fx.hooks.find((h) => h.body.eventType.startsWith('batch_')));
    expect(hook.body.eventType).toBe('batch_processor_run.failed');
    expect(hook.body.payload).toMatchObject({ id: submit.body.id, status: 'FAILED' });
  });

  it('lists runs filtered by batchId in pages of min(maxPageSize, pageSize) with nextPageToken', async () => {
    const { emu, fx } = await setup({ pageSize: 3 });
    const inputs = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ file: { url: `${fx.url}/files/${prefix}-${i}.txt` }, metadata: { n: i } }));
    const mine = await post(emu, '/split_runs/batch', { splitter: { id: 'sp_emulated' }, inputs: inputs('mine', 7) });
    const other = await post(emu, '/split_runs/batch', { splitter: { id: 'sp_emulated' }, inputs: inputs('other', 2) });
    await waitForBatch(emu, mine.body.id);
    await waitForBatch(emu, other.body.id);

    const { runs, pageSizes } = await listAll(emu, '/split_runs', { batchId: mine.body.id, maxPageSize: '10' });
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(new Set(runs.map((r) => r.id)).size).toBe(7);
    expect(runs.map((r) => r.metadata.n).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const run of runs) {
      expect(run).not.toHaveProperty('output');
      expect(run.status).toBe('PROCESSED');
      expect(run.file.name).toMatch(/^mine-/);
    }

    const small = await listAll(emu, '/split_runs', { batchId: mine.body.id, maxPageSize: '2', sortDir: 'asc' });
    expect(small.pageSizes).toEqual([2, 2, 2, 1]);
    expect(small.runs.map((r) => r.metadata.n)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    expect((await listAll(emu, '/split_runs', {})).runs).toHaveLength(9);
    expect((await listAll(emu, '/extract_runs', { batchId: mine.body.id })).runs).toHaveLength(0);

    const first = await get(emu, `/split_runs?batchId=${mine.body.id}`);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const garbage = await get(emu, `/split_runs?batchId=${mine.body.id}&nextPageToken=not-a-token`);
    expect(garbage.status).toBe(400);
    expect(garbage.body.code).toBe('INVALID_REQUEST');
    const reused = await get(emu, `/split_runs?batchId=${other.body.id}&nextPageToken=${first.body.nextPageToken}`);
    expect(reused.status).toBe(400);
    expect((await get(emu, '/split_runs?status=DONE')).status).toBe(400);
    expect((await get(emu, '/split_runs?maxPageSize=0')).status).toBe(400);
  });

  it('returns the full run with output and echoed metadata; outputs depend only on the file bytes', async () => {
    const { emu, fx } = await setup();
    const metadata = { bridgeJobId: 'j_123', key: 'in/a.pdf', nested: { tags: ['x', 'y'] } };
    const submit = await post(emu, '/extract_runs/batch', {
      extractor: { id: 'ex_emulated' },
      inputs: [
        { file: { url: `${fx.url}/files/a.pdf?${URL_SECRET}`, name: 'Invoice A.pdf' }, metadata },
        { file: { url: `${fx.url}/files/a.pdf` } },
        { file: { text: 'line one\nline two\n', name: 'note.txt' } },
      ],
    });
    await waitForBatch(emu, submit.body.id);
    const { runs } = await listAll(emu, '/extract_runs', { batchId: submit.body.id, sortDir: 'asc' });
    const full = await Promise.all(runs.map(async (r) => (await get(emu, `/extract_runs/${r.id}`)).body));

    const [named, plain, text] = full;
    expect(named).toMatchObject({ object: 'extract_run', id: runs[0].id, status: 'PROCESSED', metadata });
    expect(named.file).toMatchObject({ id: expect.stringMatching(/^file_/), name: 'Invoice A.pdf' });
    expect(named.extractor).toMatchObject({ id: 'ex_emulated' });
    expect(named.extractorVersion).toMatchObject({ version: '1.0' });
    expect(typeof named.createdAt).toBe('string');
    expect(typeof named.updatedAt).toBe('string');
    const bytes = fileBytes('a.pdf');
    expect(named.output.value).toMatchObject({ fileName: 'Invoice A.pdf', byteLength: bytes.length, pageCount: 2, fileType: 'PDF' });
    expect(named.output.value.sha256Prefix).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.keys(named.output.metadata).sort()).toEqual(Object.keys(named.output.value).sort());
    // Same bytes, same output apart from the name.
    expect(plain.output.value).toEqual({ ...named.output.value, fileName: 'a.pdf' });
    expect(plain.metadata).toBeNull();
    expect(text.output.value).toMatchObject({ fileName: 'note.txt', fileType: 'TXT', byteLength: 18 });

    // A finished run's file id can be reused as input; classify output is deterministic too.
    const again = await post(emu, '/classify_runs/batch', {
      classifier: { id: 'cl_emulated' },
      inputs: [{ file: { id: named.file.id } }, { file: { url: `${fx.url}/files/a.pdf` } }],
    });
    await waitForBatch(emu, again.body.id);
    const classified = (await listAll(emu, '/classify_runs', { batchId: again.body.id })).runs;
    const outputs = await Promise.all(classified.map(async (r) => (await get(emu, `/classify_runs/${r.id}`)).body.output));
    expect(outputs[0]).toEqual(outputs[1]);
    expect(outputs[0]).toMatchObject({ id: expect.any(String), type: expect.any(String), insights: [] });
    expect(outputs[0].confidence).toBeGreaterThan(0);
    expect(outputs[0].confidence).toBeLessThanOrEqual(1);

    expect((await get(emu, `/classify_runs/${named.id}`)).status).toBe(404);
    expect((await get(emu, '/extract_runs/exr_nope')).body.code).toBe('NOT_FOUND');
  });

  it('cancels a PROCESSING run and aborts its download', async () => {
    const { emu, fx } = await setup();
    const submit = await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_emulated' }, inputs: [{ file: { url: `${fx.url}/slow/x.pdf` } }] });
    const run = await waitFor('run to start', async () => {
      const { body } = await get(emu, `/extract_runs?batchId=${submit.body.id}`);
      return body.data[0]?.status === 'PROCESSING' && fx.held.size === 1 ? body.data[0] : undefined;
    });
    expect((await get(emu, `/batch_runs/${submit.body.id}`)).body.status).toBe('PROCESSING');
    const cancelled = await post(emu, `/extract_runs/${run.id}/cancel`, undefined);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: run.id, status: 'CANCELLED' });
    expect((await waitForBatch(emu, submit.body.id)).status).toBe('CANCELLED');
    await waitFor('download aborted', () => (fx.aborted.count === 1 ? true : undefined));
    const twice = await post(emu, `/extract_runs/${run.id}/cancel`, undefined);
    expect(twice.status).toBe(400);
    expect(emu.runsFetched()).toBe(0);
  });
});

describe('extend emulator: webhooks', () => {
  it('signs every delivery so that an independent verifier accepts it, and a tampered body fails', async () => {
    const { emu, fx } = await setup({ signingSecret: 'wss_test_secret_123' });
    expect(emu.signingSecret).toBe('wss_test_secret_123');
    const submit = await post(emu, '/extract_runs/batch', {
      extractor: { id: 'ex_emulated' },
      inputs: [
        { file: { url: `${fx.url}/files/a.pdf` }, metadata: { key: 'a' } },
        { file: { url: `${fx.url}/missing/b.pdf` }, metadata: { key: 'b' } },
      ],
    });
    await waitForBatch(emu, submit.body.id);
    const hooks = await waitFor('three webhooks', () => (fx.hooks.length >= 3 ? fx.hooks : undefined));
    await new Promise((r) => setTimeout(r, 50));
    expect(fx.hooks).toHaveLength(3);

    for (const hook of hooks) {
      expect(hook.headers['content-type']).toBe('application/json');
      expect(Object.keys(hook.body).sort()).toEqual(['eventId', 'eventType', 'payload']);
      expect(hook.body.eventId).toMatch(/^evt_/);
      expect(verifyExtendWebhook(hook.rawBody, hook.headers, emu.signingSecret)).toBe(true);
      expect(verifyExtendWebhook(hook.rawBody.replace('"payload"', '"payload" '), hook.headers, emu.signingSecret)).toBe(false);
      expect(verifyExtendWebhook(hook.rawBody, hook.headers, 'wss_other')).toBe(false);
      expect(verifyExtendWebhook(hook.rawBody, hook.headers, emu.signingSecret.slice(4))).toBe(false);
    }

    const byType = new Map(hooks.map((h) => [h.body.eventType, h.body]));
    expect([...byType.keys()].sort()).toEqual(['batch_processor_run.processed', 'extract_run.failed', 'extract_run.processed']);
    const batchEvent = byType.get('batch_processor_run.processed')!;
    expect(batchEvent.payload).toEqual((await get(emu, `/batch_runs/${submit.body.id}`)).body);
    const processed = byType.get('extract_run.processed')!.payload;
    expect(processed).toMatchObject({ object: 'extract_run', status: 'PROCESSED', metadata: { key: 'a' } });
    expect(processed.output.value.fileName).toBe('a.pdf');
    expect(processed).toEqual((await get(emu, `/extract_runs/${processed.id}`)).body);
    expect(byType.get('extract_run.failed')!.payload).toMatchObject({ failureReason: 'FAILED_TO_PROCESS_FILE', metadata: { key: 'b' } });

    await waitFor('recorded attempts', () => (emu.webhookDeliveries.length >= 3 ? true : undefined));
    expect(emu.webhookDeliveries).toHaveLength(3);
    expect(emu.webhookDeliveries.every((d) => d.status === 204 && d.url === `${fx.url}/hooks`)).toBe(true);
  });

  it('retries a failed delivery with the same eventId and a fresh valid signature', async () => {
    const { emu, fx } = await setup();
    fx.failHooks.count = 2;
    const submit = await post(emu, '/classify_runs/batch', { classifier: { id: 'cl_emulated' }, inputs: [{ file: { text: 'hi' } }] });
    await waitForBatch(emu, submit.body.id);
    // Two events, the first two attempts (of whichever events) fail: 2 + 2 = 4 receptions.
    const hooks = await waitFor('retried deliveries', () => (fx.hooks.length >= 4 ? fx.hooks : undefined));
    const attemptsPerEvent = new Map<string, number>();
    for (const hook of hooks) {
      expect(verifyExtendWebhook(hook.rawBody, hook.headers, emu.signingSecret)).toBe(true);
      attemptsPerEvent.set(hook.body.eventId, (attemptsPerEvent.get(hook.body.eventId) ?? 0) + 1);
    }
    expect(attemptsPerEvent.size).toBe(2);
    expect([...attemptsPerEvent.values()].reduce((a, b) => a + b)).toBe(4);
    // The emulator records an attempt once it has the response, which can trail the receiver a little.
    await waitFor('recorded attempts', () => (emu.webhookDeliveries.length >= 4 ? true : undefined));
    expect(emu.webhookDeliveries.filter((d) => d.status === 500)).toHaveLength(2);
    expect(emu.webhookDeliveries.filter((d) => d.status === 204)).toHaveLength(2);
  });

  it('gives up after 3 attempts', async () => {
    const { emu, fx } = await setup();
    fx.failHooks.count = 100;
    const submit = await post(emu, '/classify_runs/batch', { classifier: { id: 'cl_emulated' }, inputs: [{ file: { text: 'hi' } }] });
    await waitForBatch(emu, submit.body.id);
    await waitFor('all attempts', () => (emu.webhookDeliveries.length >= 6 ? true : undefined));
    await new Promise((r) => setTimeout(r, 400));
    expect(emu.webhookDeliveries).toHaveLength(6);
    expect(new Set(emu.webhookDeliveries.map((d) => d.body.eventId)).size).toBe(2);
  });

  it('with duplicateDeliveries sends every event twice with the same eventId', async () => {
    const { emu, fx } = await setup({ faults: { duplicateDeliveries: true, webhookDelayMs: 30 } });
    const submit = await post(emu, '/split_runs/batch', { splitter: { id: 'sp_emulated' }, inputs: [{ file: { url: `${fx.url}/files/a.pdf` } }] });
    await waitForBatch(emu, submit.body.id);
    const hooks = await waitFor('duplicated webhooks', () => (fx.hooks.length >= 4 ? fx.hooks : undefined));
    await new Promise((r) => setTimeout(r, 100));
    expect(fx.hooks).toHaveLength(4);
    const byId = new Map<string, Hook[]>();
    for (const hook of hooks) byId.set(hook.body.eventId, [...(byId.get(hook.body.eventId) ?? []), hook]);
    expect(byId.size).toBe(2);
    for (const copies of byId.values()) {
      expect(copies).toHaveLength(2);
      expect(copies[0]!.rawBody).toBe(copies[1]!.rawBody);
      expect(copies.every((c) => verifyExtendWebhook(c.rawBody, c.headers, emu.signingSecret))).toBe(true);
    }
    expect(hooks.map((h) => h.body.eventType).sort()).toEqual([
      'batch_processor_run.processed',
      'batch_processor_run.processed',
      'split_run.processed',
      'split_run.processed',
    ]);
  });

  it('sends nothing without a webhookUrl', async () => {
    const fx = await startFixture();
    cleanups.push(fx.close);
    const emu = await startExtendEmulator({ apiKey: API_KEY, runDelayMs: 0 });
    cleanups.push(emu.close);
    expect(emu.signingSecret).toMatch(/^wss_[A-Za-z0-9]{32}$/);
    const submit = await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_emulated' }, inputs: [{ file: { url: `${fx.url}/files/a.pdf` } }] });
    expect((await waitForBatch(emu, submit.body.id)).status).toBe('PROCESSED');
    await new Promise((r) => setTimeout(r, 50));
    expect(emu.webhookDeliveries).toEqual([]);
  });
});

describe('extend emulator: faults and shutdown', () => {
  it('answers 429 with Retry-After for the scripted number of requests, then succeeds', async () => {
    const { emu, fx } = await setup({
      faults: { failures: [{ pathIncludes: '/extract_runs/batch', method: 'POST', status: 429, count: 2, retryAfterSeconds: 1 }] },
    });
    const body = { extractor: { id: 'ex_emulated' }, inputs: [{ file: { url: `${fx.url}/files/a.pdf` } }] };
    for (let i = 0; i < 2; i++) {
      const limited = await post(emu, '/extract_runs/batch', body);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryable: true });
    }
    expect((await get(emu, '/extract_runs')).status).toBe(200); // other paths/methods are unaffected
    const ok = await post(emu, '/extract_runs/batch', body);
    expect(ok.status).toBe(200);
    expect((await waitForBatch(emu, ok.body.id)).status).toBe('PROCESSED');
    expect((await listAll(emu, '/extract_runs', {})).runs).toHaveLength(1);
    expect(emu.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([429, 429, 200]);

    emu.setFaults({ failures: [{ pathIncludes: '/batch_runs/', status: 503, count: 1, body: { custom: true } }] });
    const unavailable = await get(emu, `/batch_runs/${ok.body.id}`);
    expect(unavailable).toMatchObject({ status: 503, body: { custom: true } });
    expect(unavailable.headers.get('retry-after')).toBeNull();
    expect((await get(emu, `/batch_runs/${ok.body.id}`)).status).toBe(200);
  });

  it('close() stops in-flight downloads and pending runs promptly', async () => {
    const { emu, fx } = await setup();
    const inputs = Array.from({ length: 6 }, (_, i) => ({ file: { url: `${fx.url}/slow/${i}.pdf` } }));
    await post(emu, '/extract_runs/batch', { extractor: { id: 'ex_emulated' }, inputs });
    // Four runs are processed at once; the rest wait.
    await waitFor('downloads in flight', () => (fx.held.size === 4 ? true : undefined));
    const started = Date.now();
    await emu.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await waitFor('downloads aborted', () => (fx.aborted.count === 4 ? true : undefined));
    expect(fx.hits.size).toBe(4);
    await expect(fetch(`${emu.url}/extract_runs`)).rejects.toThrow();
  });
});

describe('extend emulator: CLI', () => {
  it('prints its base URL and signing secret as one JSON line and serves the API', async () => {
    const main = fileURLToPath(new URL('../../sandbox/extend-emulator/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--api-key', API_KEY, '--webhook-url', 'http://127.0.0.1:1/hooks'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const line = await waitFor('CLI banner', () => (out.includes('\n') ? out.split('\n')[0] : undefined));
    const { url, signingSecret } = JSON.parse(line!) as { url: string; signingSecret: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(signingSecret).toMatch(/^wss_/);
    expect(out).not.toContain(API_KEY);
    const res = await fetch(`${url}/extract_runs`, { headers: HEADERS });
    expect(await res.json()).toEqual({ object: 'list', data: [] });
  });
});
