import { spawn } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startLlamaCloudEmulator,
  type LlamaEmulatorOptions,
  type RunningLlamaEmulator,
} from '../../sandbox/llamacloud-emulator/index';

const API_KEY = 'llx-test-key-7d2e';
const SECRET = 'whsec-test-3141';
const WAIT_MS = 15_000;
const DIRS = '/api/v1/beta/directories';
const BATCHES = '/api/v2/batches';
const PARSE_CFG = 'cfg-PARSE_AGENTIC';
const EXTRACT_CFG = 'cfg-extract-emulated';

// ---------- webhook receiver ----------

interface Hook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  receivedAt: number;
}

interface Receiver {
  url: string;
  hooks: Hook[];
  /** Paths that answer 500 to their next N deliveries. */
  failNext: Map<string, number>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const hooks: Hook[] = [];
  const failNext = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url!, 'http://receiver').pathname;
    hooks.push({ path, headers: req.headers, raw: Buffer.concat(chunks), receivedAt: Date.now() });
    const failures = failNext.get(path) ?? 0;
    if (failures > 0) failNext.set(path, failures - 1);
    res.writeHead(failures > 0 ? 500 : 204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hooks,
    failNext,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Independent LC-Signature check (WebCrypto, not node:crypto's createHmac). */
async function lcSignatureValid(secret: string, raw: Buffer, header: string | string[] | undefined): Promise<boolean> {
  if (typeof header !== 'string' || !/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  const enc = new TextEncoder();
  const key = await webcrypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  return webcrypto.subtle.verify('HMAC', key, Buffer.from(header.slice('sha256='.length), 'hex'), raw);
}

// ---------- helpers ----------

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra: Partial<LlamaEmulatorOptions> = {}): Promise<{ emu: RunningLlamaEmulator; rx: Receiver }> {
  const rx = await startReceiver();
  cleanups.push(rx.close);
  const emu = await startLlamaCloudEmulator({ apiKey: API_KEY, jobDelayMs: 15, ...extra });
  cleanups.push(emu.close);
  return { emu, rx };
}

interface ApiResult {
  status: number;
  body: any;
  headers: Headers;
}

async function api(
  emu: RunningLlamaEmulator,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; query?: Record<string, string | string[]>; key?: string | null } = {},
): Promise<ApiResult> {
  const url = new URL(path, emu.url);
  for (const [k, v] of Object.entries(opts.query ?? {})) for (const one of [v].flat()) url.searchParams.append(k, one);
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? API_KEY : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function createDirectory(emu: RunningLlamaEmulator, name = 'inbox'): Promise<string> {
  const res = await api(emu, 'POST', DIRS, { body: { name, type: 'ephemeral' } });
  expect(res.status).toBe(200);
  return res.body.id;
}

async function upload(
  emu: RunningLlamaEmulator,
  directoryId: string,
  name: string,
  data: Buffer | string,
  fields: Record<string, string> = {},
): Promise<ApiResult> {
  const form = new FormData();
  form.append('upload_file', new Blob([typeof data === 'string' ? Buffer.from(data) : data], { type: 'application/octet-stream' }), name);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${emu.url}${DIRS}/${directoryId}/files/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}` },
    body: form,
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function uploadMany(emu: RunningLlamaEmulator, directoryId: string, names: string[], limit = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const res = await upload(emu, directoryId, name, `content of ${name}`);
      expect(res.status).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** A hand-built multipart body, so tests control its bytes and how they are chunked. */
function multipartBody(boundary: string, parts: Array<{ name: string; filename?: string; data: Buffer | string }>): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename !== undefined ? 'Content-Type: application/octet-stream\r\n' : '';
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

function streamOf(chunks: Buffer[], gate?: Promise<void>, gateBefore = 1): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (gate && index === gateBefore) await gate;
      if (index < chunks.length) controller.enqueue(new Uint8Array(chunks[index++]!));
      else controller.close();
    },
  });
}

async function rawUpload(emu: RunningLlamaEmulator, directoryId: string, boundary: string, body: ReadableStream<Uint8Array>): Promise<ApiResult> {
  const res = await fetch(`${emu.url}${DIRS}/${directoryId}/files/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

async function waitBatch(emu: RunningLlamaEmulator, batchId: string, status = 'COMPLETED'): Promise<any> {
  return waitFor(`batch ${batchId} ${status}`, async () => {
    const { body } = await api(emu, 'GET', `${BATCHES}/${batchId}`, { query: { expand: 'results' } });
    return body.status === status ? body : undefined;
  });
}

function batchBody(directoryId: string, rx?: Receiver, extra: Record<string, unknown> = {}): {
  webhook_configurations?: Array<Record<string, unknown>>;
  [key: string]: unknown;
} {
  return {
    source_directory_id: directoryId,
    config: { job: { type: 'parse_v2', configuration_id: PARSE_CFG } },
    ...(rx
      ? {
          webhook_configurations: [
            {
              webhook_url: `${rx.url}/hooks/json`,
              webhook_events: null,
              webhook_headers: { Authorization: 'Bearer tenant-token-1', 'X-Tenant': 'acme' },
              webhook_output_format: 'json',
              webhook_signing_secret: SECRET,
            },
          ],
        }
      : {}),
    ...extra,
  };
}

async function collectPages(emu: RunningLlamaEmulator, path: string, query: Record<string, string> = {}) {
  const items: any[] = [];
  const pageSizes: number[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const { status, body } = await api(emu, 'GET', path, { query: token ? { ...query, page_token: token } : query });
    expect(status).toBe(200);
    items.push(...body.items);
    pageSizes.push(body.items.length);
    if (body.next_page_token === undefined) return { items, pageSizes, totalSize: body.total_size };
    token = body.next_page_token;
  }
  throw new Error('pagination did not terminate');
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** 1.5 MiB of bytes that also contain CRLF, dashes and the word boundary, to stress the parser. */
function bigBinary(): Buffer {
  const big = Buffer.alloc(1536 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 0xff;
  const trap = Buffer.from('\r\n--\r\n----boundary\r\n--formdata-undici-0\r\n');
  for (let at = 1000; at < big.length - trap.length; at += 100_000) trap.copy(big, at);
  big[5] = 0; // a NUL byte: treated as binary
  return big;
}

// ---------- tests ----------

describe('llamacloud emulator: auth', () => {
  it('answers 401 {detail} without a valid Bearer key and redacts Authorization in records', async () => {
    const { emu } = await setup();
    for (const key of ['wrong-key', null]) {
      const res = await api(emu, 'GET', DIRS, { key });
      expect(res.status).toBe(401);
      expect(typeof res.body.detail).toBe('string');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    const raw = await fetch(`${emu.url}${DIRS}`, { headers: { authorization: API_KEY } }); // no scheme
    expect(raw.status).toBe(401);

    const ok = await api(emu, 'GET', DIRS, { query: { project_id: 'p-1', organization_id: 'o-1' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ items: [], total_size: 0 });

    expect(emu.requests.map((r) => r.status)).toEqual([401, 401, 401, 200]);
    expect(emu.requests[0]!.headers.authorization).toBe('[redacted]');
    expect(emu.requests[3]!.query).toEqual({ project_id: 'p-1', organization_id: 'o-1' });
    expect(JSON.stringify(emu.requests)).not.toContain(API_KEY);
  });
});

describe('llamacloud emulator: directories and streaming uploads', () => {
  it('creates, gets and lists directories; validates the body with a 422 detail list', async () => {
    const { emu } = await setup();
    const eph = await api(emu, 'POST', DIRS, { body: { name: 'batch-in', type: 'ephemeral', description: 'x' } });
    expect(eph.status).toBe(200);
    expect(eph.body).toMatchObject({ name: 'batch-in', type: 'ephemeral', description: 'x', deleted_at: null });
    expect(eph.body.id).toMatch(/^dir-[0-9a-f-]{36}$/);
    expect(eph.body.project_id).toMatch(/^prj-/);
    expect(Date.parse(eph.body.expires_at)).toBeGreaterThan(Date.now());
    const user = await api(emu, 'POST', DIRS, { body: { name: 'keep', type: 'user' } });
    expect(user.body.expires_at).toBeNull();

    expect((await api(emu, 'GET', `${DIRS}/${eph.body.id}`)).body).toEqual(eph.body);
    expect((await api(emu, 'GET', `${DIRS}/dir-missing`)).status).toBe(404);
    const listed = await api(emu, 'GET', DIRS, { query: { type: 'user' } });
    expect(listed.body.items.map((d: any) => d.id)).toEqual([user.body.id]);

    const bad = await api(emu, 'POST', DIRS, { body: { name: 'n', type: 'index' } });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0]).toMatchObject({ loc: ['body', 'type'] });
    expect(typeof bad.body.detail[0].msg).toBe('string');
    const notJson = await fetch(`${emu.url}${DIRS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(notJson.status).toBe(422);
  });

  it('accepts three uploads (one 1.5 MiB, streamed) with metadata, and lists them page by page', async () => {
    const { emu } = await setup();
    const dir = await createDirectory(emu);
    const big = bigBinary();

    const a = await upload(emu, dir, 'a.txt', 'Hello from A', {
      external_file_id: 's3://bucket/in/a.txt',
      metadata: JSON.stringify({ bucket: 'in', tags: ['x', 'y'], size: 12, urgent: true }),
    });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      directory_id: dir,
      display_name: 'a.txt',
      unique_id: 's3://bucket/in/a.txt',
      external_file_id: 's3://bucket/in/a.txt',
      metadata: { bucket: 'in', tags: ['x', 'y'], size: 12, urgent: true },
      deleted_at: null,
    });
    expect(a.body.id).toMatch(/^dfl-/);

    const b = await upload(emu, dir, 'big.bin', big, { display_name: 'Big scan.pdf', unique_id: 'key/big.bin' });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ display_name: 'Big scan.pdf', unique_id: 'key/big.bin', metadata: {} });

    const c = await upload(emu, dir, 'c.md', '# Title\n\nbody');
    expect(c.status).toBe(200);
    expect(c.body.unique_id).toBe('c.md'); // defaults to the name

    expect(emu.uploadedBytes()).toBe(12 + big.length + 13);
    const bigRecord = emu.requests.find((r) => (r.body as any)?.fileName === 'big.bin')!;
    expect(bigRecord.body).toEqual({ fields: { display_name: 'Big scan.pdf', unique_id: 'key/big.bin' }, fileSize: big.length, fileName: 'big.bin' });
    expect(emu.maxConcurrentUploads()).toBe(1);

    const got = await api(emu, 'GET', `${DIRS}/${dir}/files/${b.body.id}`);
    expect(got.body).toEqual(b.body);
    const byUnique = await api(emu, 'GET', `${DIRS}/${dir}/files`, { query: { unique_id: 'key/big.bin' } });
    expect(byUnique.body.items.map((f: any) => f.id)).toEqual([b.body.id]);

    for (let i = 0; i < 4; i++) expect((await upload(emu, dir, `more-${i}.txt`, `m${i}`)).status).toBe(200);
    const pages = await collectPages(emu, `${DIRS}/${dir}/files`);
    expect(pages.pageSizes).toEqual([3, 3, 1]);
    expect(pages.totalSize).toBe(7);
    expect(pages.items.map((f: any) => f.display_name)).toEqual(['a.txt', 'Big scan.pdf', 'c.md', 'more-0.txt', 'more-1.txt', 'more-2.txt', 'more-3.txt']);
    const small = await collectPages(emu, `${DIRS}/${dir}/files`, { page_size: '2' });
    expect(small.pageSizes).toEqual([2, 2, 2, 1]);
    const badToken = await api(emu, 'GET', `${DIRS}/${dir}/files`, { query: { page_token: 'garbage' } });
    expect(badToken.status).toBe(400);
    // A token from another listing is rejected rather than silently applied.
    const dirsPage = await api(emu, 'GET', `${DIRS}/${dir}/files`, { query: { page_size: '1' } });
    const foreign = await api(emu, 'GET', DIRS, { query: { page_token: dirsPage.body.next_page_token } });
    expect(foreign.status).toBe(400);
  });

  it('rejects bad metadata (400), a repeated unique_id (409), a missing file part (422) and an unknown directory (404)', async () => {
    const { emu } = await setup();
    const dir = await createDirectory(emu);
    for (const metadata of ['not json', '[1,2]', '"text"', 'null', '{"nested":{"a":1}}']) {
      const res = await upload(emu, dir, 'm.txt', 'x', { metadata });
      expect(res.status, metadata).toBe(400);
      expect(res.body.detail).toMatch(/metadata/);
    }
    expect((await upload(emu, dir, 'one.txt', '1', { unique_id: 'u-1' })).status).toBe(200);
    const dup = await upload(emu, dir, 'two.txt', '2', { unique_id: 'u-1' });
    expect(dup.status).toBe(409);
    expect(dup.body.detail).toContain('u-1');

    const form = new FormData();
    form.append('display_name', 'no file');
    const noFile = await fetch(`${emu.url}${DIRS}/${dir}/files/upload`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, body: form });
    expect(noFile.status).toBe(422);
    expect(((await noFile.json()) as any).detail[0].loc).toEqual(['body', 'upload_file']);

    const notMultipart = await fetch(`${emu.url}${DIRS}/${dir}/files/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(notMultipart.status).toBe(422);

    const missing = await upload(emu, 'dir-missing', 'x.bin', Buffer.alloc(300_000, 7));
    expect(missing.status).toBe(404);

    const truncated = multipartBody('b0und', [{ name: 'upload_file', filename: 't.bin', data: 'abc' }]).subarray(0, 90);
    const broken = await rawUpload(emu, dir, 'b0und', streamOf([truncated]));
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toMatch(/malformed multipart/);

    const listed = await api(emu, 'GET', `${DIRS}/${dir}/files`);
    expect(listed.body.items.map((f: any) => f.display_name)).toEqual(['one.txt']);
  });

  it('answers 413 with a detail body for uploads over maxUploadBytes', async () => {
    const { emu } = await setup({ maxUploadBytes: 1000 });
    const dir = await createDirectory(emu);
    const tooBig = await upload(emu, dir, 'big.bin', Buffer.alloc(200_000, 1));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.detail).toMatch(/1000 bytes/);
    expect((await upload(emu, dir, 'ok.bin', Buffer.alloc(1000, 1))).status).toBe(200);
    expect((await api(emu, 'GET', `${DIRS}/${dir}/files`)).body.total_size).toBe(1);
  });

  it('streams a 256 MiB upload without holding it in memory', async () => {
    const { emu } = await setup();
    const dir = await createDirectory(emu);
    const boundary = 'mem-boundary';
    const total = 256 * 1024 * 1024;
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload_file"; filename="huge.bin"\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const external = () => process.memoryUsage().arrayBuffers;
    const baseline = external();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, external())), 5);
    try {
      // node:http with backpressure (fetch with a stream body buffers it all on the client side).
      const req = httpRequest(`${emu.url}${DIRS}/${dir}/files/upload`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${API_KEY}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + total + tail.length,
        },
      });
      const response = once(req, 'response') as Promise<[IncomingMessage]>;
      req.write(head);
      for (let sent = 0; sent < total; sent += 1024 * 1024) {
        if (!req.write(Buffer.alloc(1024 * 1024, 0x61))) await once(req, 'drain');
      }
      req.end(tail);
      const [res] = await response;
      let text = '';
      for await (const chunk of res) text += chunk;
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(text).display_name).toBe('huge.bin');
    } finally {
      clearInterval(sampler);
    }
    expect(emu.uploadedBytes()).toBe(total);
    // Buffering the body would need > 256 MiB; streaming needs a few chunks plus not-yet-collected garbage
    // (about 30-45 MiB measured without forced GC; about 11 MiB live).
    expect(peak - baseline).toBeLessThan(128 * 1024 * 1024);
  });

  it('parses a body delivered in tiny chunks with delimiter-like bytes split across them', async () => {
    const { emu } = await setup({ jobDelayMs: 1 });
    const dir = await createDirectory(emu);
    const boundary = 'XyZ-boundary-42';
    const content = Buffer.concat([Buffer.from('\0start\r\n--XyZ-boundary-4\r\n-'), Buffer.alloc(5000, 0x2d), Buffer.from('\r\n--XyZ-boundary-4'), Buffer.from('end')]);
    const body = multipartBody(boundary, [
      { name: 'display_name', data: 'chunky.bin' },
      { name: 'upload_file', filename: 'c.bin', data: content },
      { name: 'metadata', data: '{"k":"v"}' },
    ]);
    const chunks: Buffer[] = [];
    for (let at = 0, n = 1; at < body.length; at += n, n = (n % 7) + 1) chunks.push(body.subarray(at, at + n));
    const res = await rawUpload(emu, dir, boundary, streamOf(chunks));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ display_name: 'chunky.bin', metadata: { k: 'v' } });
    expect(emu.uploadedBytes()).toBe(content.length);

    const created = await api(emu, 'POST', BATCHES, { body: batchBody(dir) });
    const done = await waitBatch(emu, created.body.id);
    const job = await api(emu, 'GET', `/api/v2/parse/${done.results[0].job_reference.id}`, { query: { expand: 'markdown' } });
    expect(job.body.markdown.pages[0].markdown).toContain(`${content.length} bytes · sha256 ${sha256(content)}`);
  });
});

describe('llamacloud emulator: upload concurrency', () => {
  it('reports 1 for sequential uploads and 2 when one upload overlaps another', async () => {
    const { emu } = await setup();
    const dir = await createDirectory(emu);
    for (const name of ['s1', 's2', 's3']) expect((await upload(emu, dir, name, Buffer.alloc(50_000, 3))).status).toBe(200);
    expect(emu.maxConcurrentUploads()).toBe(1);

    const boundary = 'slow-boundary';
    const body = multipartBody(boundary, [{ name: 'upload_file', filename: 'slow.bin', data: Buffer.alloc(100_000, 9) }]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = rawUpload(emu, dir, boundary, streamOf([body.subarray(0, 400), body.subarray(400)], gate));
    await waitFor('slow upload to start', () => (emu.requests.some((r) => (r.body as any)?.fileName === 'slow.bin') ? true : undefined));
    expect((await upload(emu, dir, 'fast.bin', 'quick')).status).toBe(200);
    release();
    expect((await slow).status).toBe(200);
    expect(emu.maxConcurrentUploads()).toBe(2);
    expect(emu.uploadedBytes()).toBe(3 * 50_000 + 100_000 + 5);
  });
});

describe('llamacloud emulator: batches', () => {
  it('runs a parse batch: signed webhooks pending → running → success, results map every file to a job', async () => {
    const { emu, rx } = await setup();
    const dir = await createDirectory(emu);
    const big = bigBinary();
    const files = [
      (await upload(emu, dir, 'report.txt', 'Page one text\fPage **two** text')).body,
      (await upload(emu, dir, 'scan.pdf', big)).body,
      (await upload(emu, dir, 'notes.md', '# Notes\n\nhello')).body,
    ];
    const body = batchBody(dir, rx);
    // Second configuration: default output format ("string"), only batch.success, no signing secret.
    body.webhook_configurations!.push({ webhook_url: `${rx.url}/hooks/string`, webhook_events: ['batch.success'] });
    const created = await api(emu, 'POST', BATCHES, { body });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      source_directory_id: dir,
      config: { job: { type: 'parse_v2', configuration_id: PARSE_CFG } },
      status: 'PENDING',
      results: null,
    });
    expect(created.body.id).toMatch(/^bat-/);
    const batchId = created.body.id;

    const done = await waitBatch(emu, batchId);
    const jsonHooks = await waitFor('3 json hooks', () => {
      const h = rx.hooks.filter((x) => x.path === '/hooks/json');
      return h.length >= 3 ? h : undefined;
    });
    const events = jsonHooks.map((h) => JSON.parse(h.raw.toString('utf8')));
    expect(events.map((e) => e.event_type)).toEqual(['batch.pending', 'batch.running', 'batch.success']);
    expect(events.map((e) => e.data)).toEqual([
      { id: batchId, status: 'PENDING' },
      { id: batchId, status: 'RUNNING' },
      { id: batchId, status: 'COMPLETED' },
    ]);
    for (const [i, hook] of jsonHooks.entries()) {
      expect(hook.headers['content-type']).toBe('application/json');
      expect(hook.headers['user-agent']).toBe('llamaindex-webhook-service/1.0');
      expect(hook.headers['x-webhook-event-id']).toBe(events[i].event_id);
      expect(hook.headers['x-webhook-event-type']).toBe(events[i].event_type);
      expect(hook.headers.authorization).toBe('Bearer tenant-token-1');
      expect(hook.headers['x-tenant']).toBe('acme');
      expect(typeof events[i].timestamp).toBe('number');
      expect(await lcSignatureValid(SECRET, hook.raw, hook.headers['lc-signature'])).toBe(true);
      const tampered = Buffer.from(hook.raw.toString('utf8').replace('batch.', 'batcH.'));
      expect(await lcSignatureValid(SECRET, tampered, hook.headers['lc-signature'])).toBe(false);
      expect(await lcSignatureValid('other-secret', hook.raw, hook.headers['lc-signature'])).toBe(false);
    }
    expect(new Set(events.map((e) => e.event_id)).size).toBe(3);

    // Default "string" format: the body is a JSON string holding the event; filtered to batch.success; unsigned.
    const stringHooks = await waitFor('string hook', () => {
      const h = rx.hooks.filter((x) => x.path === '/hooks/string');
      return h.length >= 1 ? h : undefined;
    });
    expect(stringHooks).toHaveLength(1);
    const outer = JSON.parse(stringHooks[0]!.raw.toString('utf8'));
    expect(typeof outer).toBe('string');
    expect(JSON.parse(outer)).toEqual(events[2]);
    expect(stringHooks[0]!.headers['lc-signature']).toBeUndefined();
    // The emulator records a delivery once the receiver's response arrived, so wait for the record too.
    const recorded = await waitFor('string delivery record', () => emu.webhookDeliveries.find((d) => d.url.endsWith('/hooks/string')));
    expect(recorded).toMatchObject({ rawBody: stringHooks[0]!.raw.toString('utf8'), body: events[2], status: 204 });

    // expand=results maps every source file to its own parse job, all terminal at COMPLETED.
    expect(done.results).toHaveLength(3);
    expect(done.results.map((r: any) => r.source_directory_file_id).sort()).toEqual(files.map((f) => f.id).sort());
    for (const result of done.results) {
      expect(result.error_message).toBeNull();
      expect(result.job_reference.type).toBe('parse_v2');
      expect(result.job_reference.id).toMatch(/^pjb-/);
      const job = await api(emu, 'GET', `/api/v2/parse/${result.job_reference.id}`);
      expect(job.status).toBe(200);
      expect(job.body.job).toMatchObject({ id: result.job_reference.id, status: 'COMPLETED', error_message: null });
      expect(Object.keys(job.body)).toEqual(['job']);
    }
    const plain = await api(emu, 'GET', `${BATCHES}/${batchId}`);
    expect(plain.body.status).toBe('COMPLETED');
    expect(plain.body.results).toBeNull();
    expect((await api(emu, 'GET', `${BATCHES}/${batchId}`, { query: { expand: 'bogus' } })).status).toBe(422);
    expect((await api(emu, 'GET', `${BATCHES}/bat-missing`)).status).toBe(404);

    // Markdown/text expands are derived from the uploaded bytes.
    const jobOf = (fileId: string) => done.results.find((r: any) => r.source_directory_file_id === fileId).job_reference.id;
    const report = await api(emu, 'GET', `/api/v2/parse/${jobOf(files[0].id)}`, { query: { expand: ['markdown', 'text', 'markdown_full'] } });
    expect(report.body.markdown.pages).toEqual([
      { page_number: 1, markdown: 'Page one text', success: true },
      { page_number: 2, markdown: 'Page **two** text', success: true },
    ]);
    expect(report.body.text.pages[1]).toEqual({ page_number: 2, text: 'Page two text' });
    expect(report.body.markdown_full).toBe('Page one text\n\nPage **two** text');
    const scan = await api(emu, 'GET', `/api/v2/parse/${jobOf(files[1].id)}`, { query: { expand: 'markdown,job_metadata' } });
    expect(scan.body.markdown.pages).toHaveLength(6); // 1.5 MiB / 256 KiB
    expect(scan.body.markdown.pages[0].markdown).toContain(`${big.length} bytes · sha256 ${sha256(big)}`);
    expect(scan.body.job_metadata.source_size_bytes).toBe(big.length);
    expect((await api(emu, 'GET', `/api/v2/parse/${jobOf(files[1].id)}`, { query: { expand: 'nonsense' } })).status).toBe(422);
    expect((await api(emu, 'GET', '/api/v2/parse/pjb-missing')).status).toBe(404);
    expect((await api(emu, 'GET', `/api/v2/extract/${jobOf(files[1].id)}`)).status).toBe(404);
  });

  it('serves *_content_metadata presigned URLs without auth and rejects tampered ones with 403', async () => {
    const { emu } = await setup();
    const dir = await createDirectory(emu);
    await upload(emu, dir, 'doc.txt', 'First\fSecond');
    const created = await api(emu, 'POST', BATCHES, { body: batchBody(dir) });
    const done = await waitBatch(emu, created.body.id);
    const jobId = done.results[0].job_reference.id;
    const res = await api(emu, 'GET', `/api/v2/parse/${jobId}`, {
      query: { expand: ['markdown_content_metadata', 'text_full_content_metadata', 'xlsx_content_metadata'] },
    });
    const meta = res.body.result_content_metadata;
    expect(meta.xlsx).toEqual({ size_bytes: 0, exists: false, presigned_url: null });
    expect(meta.markdown.exists).toBe(true);

    const download = await fetch(meta.markdown.presigned_url); // no Authorization header
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(meta.markdown.size_bytes);
    expect(JSON.parse(bytes.toString('utf8')).pages.map((p: any) => p.markdown)).toEqual(['First', 'Second']);
    const full = await fetch(meta.text_full.presigned_url);
    expect(await full.text()).toBe('First\n\nSecond');

    const url = new URL(meta.markdown.presigned_url);
    const sig = url.searchParams.get('signature')!;
    const badSig = new URL(url);
    badSig.searchParams.set('signature', `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}`);
    const laterExpiry = new URL(url);
    laterExpiry.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    const otherResult = new URL(url.toString().replace('/markdown?', '/text?'));
    const expired = new URL(url);
    expired.searchParams.set('expires', '1000');
    for (const tampered of [badSig, laterExpiry, otherResult, expired, new URL(url.pathname, url)]) {
      const r = await fetch(tampered);
      expect(r.status, tampered.toString()).toBe(403);
      expect(((await r.json()) as any).detail).toBeTypeOf('string');
    }
  });

  it('keeps a COMPLETED batch when some files fail: their own jobs are FAILED with error_message', async () => {
    const { emu, rx } = await setup({ faults: { failFilesNamed: /^broken-/ } });
    const dir = await createDirectory(emu);
    for (const name of ['good-1.pdf', 'broken-2.pdf', 'good-3.pdf']) await upload(emu, dir, name, `bytes of ${name}`);
    const created = await api(emu, 'POST', BATCHES, { body: batchBody(dir, rx) });
    const done = await waitBatch(emu, created.body.id);
    expect(done.status).toBe('COMPLETED');
    const statuses: Record<string, any> = {};
    for (const r of done.results) {
      expect(r.error_message).toBeNull(); // mapping succeeded for every file
      const { body } = await api(emu, 'GET', `/api/v2/parse/${r.job_reference.id}`, { query: { expand: 'markdown' } });
      statuses[body.job.name] = body;
    }
    expect(statuses['broken-2.pdf'].job.status).toBe('FAILED');
    expect(statuses['broken-2.pdf'].job.error_message).toMatch(/broken-2\.pdf/);
    expect(statuses['broken-2.pdf'].markdown).toBeNull();
    expect(statuses['good-1.pdf'].job).toMatchObject({ status: 'COMPLETED', error_message: null });
    await waitFor('success hook', () => (rx.hooks.some((h) => h.raw.includes('batch.success')) ? true : undefined));
  });

  it('runs an extract batch with exj- jobs and a per-document extract_result', async () => {
    const { emu } = await setup();
    const dir = await createDirectory(emu);
    const file = (await upload(emu, dir, 'invoice.txt', 'Invoice 42\nTotal 10 EUR')).body;
    const created = await api(emu, 'POST', BATCHES, {
      body: { source_directory_id: dir, config: { job: { type: 'extract_v2', configuration_id: EXTRACT_CFG } } },
    });
    expect(created.status).toBe(200);
    const done = await waitBatch(emu, created.body.id);
    const ref = done.results[0].job_reference;
    expect(ref.type).toBe('extract_v2');
    expect(ref.id).toMatch(/^exj-/);
    const job = await api(emu, 'GET', `/api/v2/extract/${ref.id}`, { query: { expand: 'usage' } });
    expect(job.body).toMatchObject({
      id: ref.id,
      file_input: file.id,
      status: 'COMPLETED',
      configuration_id: EXTRACT_CFG,
      error_message: null,
      extract_result: {
        file_name: 'invoice.txt',
        size_bytes: 23,
        sha256: sha256('Invoice 42\nTotal 10 EUR'),
        page_count: 1,
        first_line: 'Invoice 42',
      },
      metadata: { usage: { num_pages_extracted: 1 } },
    });
    expect((await api(emu, 'GET', `/api/v2/parse/${ref.id}`)).status).toBe(404);
  });

  it('validates batch creation: 1000 files pass, 1001 do not; unknown or mismatched configuration; bad bodies', async () => {
    const { emu } = await setup({ jobDelayMs: 0 });
    const dir = await createDirectory(emu);
    await uploadMany(emu, dir, Array.from({ length: 1000 }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`));
    const exactly = await api(emu, 'POST', BATCHES, { body: batchBody(dir) });
    expect(exactly.status).toBe(200);
    expect((await upload(emu, dir, 'one-too-many.txt', 'x')).status).toBe(200);
    const tooMany = await api(emu, 'POST', BATCHES, { body: batchBody(dir) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.detail).toMatch(/1001 files.*1000/);

    const small = await createDirectory(emu, 'small');
    await upload(emu, small, 'a.txt', 'a');
    const unknownCfg = await api(emu, 'POST', BATCHES, {
      body: { source_directory_id: small, config: { job: { type: 'parse_v2', configuration_id: 'cfg-nope' } } },
    });
    expect(unknownCfg.status).toBe(400);
    expect(unknownCfg.body.detail).toContain('cfg-nope');
    const mismatched = await api(emu, 'POST', BATCHES, {
      body: { source_directory_id: small, config: { job: { type: 'parse_v2', configuration_id: EXTRACT_CFG } } },
    });
    expect(mismatched.status).toBe(400);
    const badType = await api(emu, 'POST', BATCHES, {
      body: { source_directory_id: small, config: { job: { type: 'split_v1', configuration_id: PARSE_CFG } } },
    });
    expect(badType.status).toBe(422);
    expect(badType.body.detail[0].loc).toEqual(['body', 'config', 'job', 'type']);
    const badHook = await api(emu, 'POST', BATCHES, {
      body: batchBody(small, undefined, { webhook_configurations: [{ webhook_url: 'ftp://x', webhook_events: ['batch.nope'] }] }),
    });
    expect(badHook.status).toBe(422);
    expect(badHook.body.detail.map((d: any) => d.loc.join('.'))).toEqual([
      'body.webhook_configurations.0.webhook_url',
      'body.webhook_configurations.0.webhook_events.0',
    ]);
    expect((await api(emu, 'POST', BATCHES, { body: batchBody('dir-missing') })).status).toBe(404);
    const empty = await createDirectory(emu, 'empty');
    expect((await api(emu, 'POST', BATCHES, { body: batchBody(empty) })).status).toBe(400);
    expect((await api(emu, 'POST', BATCHES, { body: batchBody(small, undefined, { webhook_configuration_ids: ['wh-1'] }) })).status).toBe(400);
    await waitBatch(emu, exactly.body.id);
  });

  it('lists batches with pagination and status / directory / date filters', async () => {
    const { emu } = await setup({ jobDelayMs: 1 });
    const dirA = await createDirectory(emu, 'a');
    const dirB = await createDirectory(emu, 'b');
    await upload(emu, dirA, 'a.txt', 'a');
    await upload(emu, dirB, 'b.txt', 'b');
    const ids: string[] = [];
    for (const dir of [dirA, dirA, dirA, dirB, dirB]) ids.push((await api(emu, 'POST', BATCHES, { body: batchBody(dir) })).body.id);
    for (const id of ids) await waitBatch(emu, id);

    const all = await collectPages(emu, BATCHES);
    expect(all.pageSizes).toEqual([3, 2]);
    expect(all.totalSize).toBe(5);
    expect(all.items.map((b: any) => b.id)).toEqual(ids);
    expect(all.items.every((b: any) => b.results === null && b.status === 'COMPLETED')).toBe(true);

    const onlyA = await collectPages(emu, BATCHES, { source_directory_id: dirA, page_size: '2' });
    expect(onlyA.pageSizes).toEqual([2, 1]);
    expect(onlyA.items.map((b: any) => b.id)).toEqual(ids.slice(0, 3));
    expect((await api(emu, 'GET', BATCHES, { query: { status: 'RUNNING' } })).body).toEqual({ items: [], total_size: 0 });
    expect((await api(emu, 'GET', BATCHES, { query: { status: 'DONE' } })).status).toBe(400);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await api(emu, 'GET', BATCHES, { query: { created_at_on_or_after: future } })).body.total_size).toBe(0);
    expect((await api(emu, 'GET', BATCHES, { query: { created_at_on_or_before: future } })).body.total_size).toBe(5);
  });

  it('cancels a running batch: returns at once, ends CANCELLED with batch.cancelled; finished files keep results', async () => {
    const { emu, rx } = await setup({ jobDelayMs: 80 });
    const dir = await createDirectory(emu);
    await uploadMany(emu, dir, Array.from({ length: 20 }, (_, i) => `c-${i}.txt`), 4);
    const created = await api(emu, 'POST', BATCHES, { body: batchBody(dir, rx) });
    const batchId = created.body.id;
    await waitFor('running', async () => ((await api(emu, 'GET', `${BATCHES}/${batchId}`)).body.status === 'RUNNING' ? true : undefined));
    const cancelled = await api(emu, 'POST', `${BATCHES}/${batchId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('RUNNING');
    const done = await waitBatch(emu, batchId, 'CANCELLED');
    expect(done.results.length).toBeGreaterThan(0);
    expect(done.results.length).toBeLessThan(20);
    for (const r of done.results) {
      expect((await api(emu, 'GET', `/api/v2/parse/${r.job_reference.id}`)).body.job.status).toBe('COMPLETED');
    }
    const again = await api(emu, 'POST', `${BATCHES}/${batchId}/cancel`);
    expect(again.status).toBe(409);
    const types = await waitFor('cancelled hook', () => {
      const t = rx.hooks.map((h) => JSON.parse(h.raw.toString('utf8')).event_type);
      return t.includes('batch.cancelled') ? t : undefined;
    });
    expect(types).toEqual(['batch.pending', 'batch.running', 'batch.cancelled']);
  });

  it('with the failBatches fault a batch ends FAILED with batch.error and no results', async () => {
    const { emu, rx } = await setup({ faults: { failBatches: true } });
    const dir = await createDirectory(emu);
    await upload(emu, dir, 'x.txt', 'x');
    const created = await api(emu, 'POST', BATCHES, { body: batchBody(dir, rx) });
    const failed = await waitBatch(emu, created.body.id, 'FAILED');
    expect(failed.results).toBeNull();
    const events = await waitFor('error hook', () => {
      const e = rx.hooks.map((h) => JSON.parse(h.raw.toString('utf8')));
      return e.length >= 3 ? e : undefined;
    });
    expect(events.map((e) => [e.event_type, e.data.status])).toEqual([
      ['batch.pending', 'PENDING'],
      ['batch.running', 'RUNNING'],
      ['batch.error', 'FAILED'],
    ]);
  });
});

describe('llamacloud emulator: faults and webhook delivery', () => {
  it('injects 429 with Retry-After (and custom bodies) for the next N matching requests', async () => {
    const { emu } = await setup();
    const dir = await createDirectory(emu);
    await upload(emu, dir, 'a.txt', 'a');
    emu.setFaults({
      failures: [
        { pathIncludes: '/api/v2/batches', method: 'POST', status: 429, count: 2, retryAfterSeconds: 7 },
        { pathIncludes: '/files/upload', status: 503, count: 1, body: { detail: 'maintenance' } },
      ],
    });
    for (let i = 0; i < 2; i++) {
      const res = await api(emu, 'POST', BATCHES, { body: batchBody(dir) });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.body.detail).toMatch(/429/);
    }
    expect((await api(emu, 'GET', BATCHES)).status).toBe(200); // GET does not match the POST-only fault
    expect((await api(emu, 'POST', BATCHES, { body: batchBody(dir) })).status).toBe(200);

    const before = emu.uploadedBytes();
    const faulted = await upload(emu, dir, 'big.bin', Buffer.alloc(400_000, 2)); // body drained, not parsed
    expect(faulted.status).toBe(503);
    expect(faulted.body).toEqual({ detail: 'maintenance' });
    expect(faulted.headers.get('retry-after')).toBe('0');
    expect(emu.uploadedBytes()).toBe(before);
    expect((await upload(emu, dir, 'big.bin', Buffer.alloc(400_000, 2))).status).toBe(200);
    expect(emu.requests.filter((r) => r.status === 429)).toHaveLength(2);
  });

  it('duplicate deliveries repeat each event with the same event_id and signature', async () => {
    const { emu, rx } = await setup({ faults: { duplicateDeliveries: true } });
    const dir = await createDirectory(emu);
    await upload(emu, dir, 'a.txt', 'a');
    const created = await api(emu, 'POST', BATCHES, { body: batchBody(dir, rx) });
    await waitBatch(emu, created.body.id);
    const hooks = await waitFor('6 hooks', () => (rx.hooks.length >= 6 ? rx.hooks : undefined));
    expect(hooks).toHaveLength(6);
    const ids = hooks.map((h) => h.headers['x-webhook-event-id']);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[3]);
    expect(ids[4]).toBe(ids[5]);
    expect(new Set(ids).size).toBe(3);
    expect(hooks[0]!.raw.equals(hooks[1]!.raw)).toBe(true);
    expect(hooks[0]!.headers['lc-signature']).toBe(hooks[1]!.headers['lc-signature']);
  });

  it('retries a failing receiver up to 3 attempts per event with the same event_id, keeping event order', async () => {
    const { emu, rx } = await setup();
    const dir = await createDirectory(emu);
    await upload(emu, dir, 'a.txt', 'a');
    rx.failNext.set('/hooks/json', 5); // pending: 3 failures (gives up), running: 2 failures then success
    const created = await api(emu, 'POST', BATCHES, { body: batchBody(dir, rx) });
    await waitBatch(emu, created.body.id);
    const hooks = await waitFor('7 hooks', () => (rx.hooks.length >= 7 ? rx.hooks : undefined));
    const seen = hooks.map((h) => [h.headers['x-webhook-event-type'], h.headers['x-webhook-event-id']]);
    expect(seen.map(([t]) => t)).toEqual([
      'batch.pending',
      'batch.pending',
      'batch.pending',
      'batch.running',
      'batch.running',
      'batch.running',
      'batch.success',
    ]);
    expect(new Set(seen.slice(0, 3).map(([, id]) => id)).size).toBe(1);
    expect(new Set(seen.slice(3, 6).map(([, id]) => id)).size).toBe(1);
    await waitFor('7 delivery records', () => (emu.webhookDeliveries.length >= 7 ? true : undefined));
    expect(emu.webhookDeliveries.map((d) => d.status)).toEqual([500, 500, 500, 500, 500, 204, 204]);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.hooks).toHaveLength(7);
  });

  it('delays webhooks by webhookDelayMs', async () => {
    const { emu, rx } = await setup({ faults: { webhookDelayMs: 250 } });
    const dir = await createDirectory(emu);
    await upload(emu, dir, 'a.txt', 'a');
    const sentAt = Date.now();
    await api(emu, 'POST', BATCHES, { body: batchBody(dir, rx) });
    const first = await waitFor('first hook', () => rx.hooks[0]);
    expect(first.receivedAt - sentAt).toBeGreaterThanOrEqual(240);
  });
});

describe('llamacloud emulator: lifecycle', () => {
  it('close() stops running batches and pending webhooks promptly', async () => {
    const { emu, rx } = await setup({ jobDelayMs: 200, faults: { webhookDelayMs: 400 } });
    const dir = await createDirectory(emu);
    await uploadMany(emu, dir, ['a', 'b', 'c'], 3);
    await api(emu, 'POST', BATCHES, { body: batchBody(dir, rx) });
    const started = Date.now();
    await emu.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 600));
    expect(rx.hooks).toHaveLength(0);
    await expect(fetch(`${emu.url}${DIRS}`)).rejects.toThrow();
  });

  it('runs standalone from main.ts and prints its URL without the key', async () => {
    const main = fileURLToPath(new URL('../../sandbox/llamacloud-emulator/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--api-key', API_KEY], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    const { url } = JSON.parse(line!) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).not.toContain(API_KEY);
    const res = await fetch(`${url}${BATCHES}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(await res.json()).toEqual({ items: [], total_size: 0 });

    const bad = spawn(process.execPath, ['--import', 'tsx', main, '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('usage:');
  });
});
