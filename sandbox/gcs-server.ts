import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkGcsV4Url } from './gcs-v4-verify';

/**
 * A fake Google Cloud Storage on loopback, speaking the JSON API as `@google-cloud/storage` 7
 * uses it through `apiEndpoint`:
 * - `GET  /storage/v1/b/{bucket}/o` listing with `prefix`, `maxResults`, `pageToken`, `startOffset`, `delimiter`
 * - `GET  /storage/v1/b/{bucket}/o/{object}` metadata, or the bytes with `alt=media`
 *   (with `x-goog-hash`, so the library's download validation runs)
 * - `POST /upload/storage/v1/b/{bucket}/o` with `uploadType=multipart` (simple uploads) or
 *   `uploadType=resumable`, then `PUT` chunks with `Content-Range` (308 + `Range` until the last)
 * - `DELETE /storage/v1/b/{bucket}/o/{object}`
 * - `GET|HEAD /{bucket}/{object}?X-Goog-Signature=…` V4 signed URL downloads, served only when the
 *   signature verifies against a trusted service account's public key and the URL has not expired.
 * Buckets may be requester-pays (`userProject` required, as GCS does). Requests are recorded;
 * faults can be scripted.
 */

export interface FakeGcsObject {
  name: string;
  data: Buffer;
  contentType: string;
  generation: number;
  updated: Date;
}

export interface FakeGcsRequest {
  method: string;
  /** Raw path (still percent-encoded). */
  path: string;
  query: Record<string, string>;
  status: number;
  /** `signed` for V4 signed URL downloads, `api` for JSON API calls. */
  kind: 'api' | 'signed';
}

export interface GcsFault {
  method?: string;
  /** Matches the raw path (or `kind:signed` / `kind:api`). */
  pathIncludes?: string;
  /** Only requests whose query has this parameter (e.g. `pageToken` for later listing pages). */
  queryHas?: string;
  status: number;
  count: number;
  /** Instead of failing: serve a media download with one byte flipped (and the true hashes). */
  corrupt?: boolean;
}

export interface FakeGcsServer {
  /** `http://127.0.0.1:PORT`: the `apiEndpoint` of the client and the origin of signed URLs. */
  url: string;
  requests: FakeGcsRequest[];
  /** Accept V4 signatures of this service account. */
  trust(email: string, publicKey: KeyObject): void;
  createBucket(name: string, options?: { requesterPays?: boolean }): void;
  put(bucket: string, name: string, data: Buffer | string, contentType?: string): FakeGcsObject;
  get(bucket: string, name: string): FakeGcsObject | undefined;
  names(bucket: string): string[];
  fail(fault: GcsFault): void;
  /**
   * The next `count` uploads are stored with one byte flipped, after the request's own hashes were
   * checked: the right size, the wrong content, and metadata (crc32c, md5Hash) of what was stored.
   */
  corruptUploads(count: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  chunks: Buffer[];
  length: number;
}

export async function startFakeGcs(options: { buckets?: string[] } = {}): Promise<FakeGcsServer> {
  const buckets = new Map<string, { objects: Map<string, FakeGcsObject>; requesterPays: boolean }>();
  const keys = new Map<string, KeyObject>();
  const sessions = new Map<string, Session>();
  const requests: FakeGcsRequest[] = [];
  let faults: GcsFault[] = [];
  let uploadsToCorrupt = 0;
  let generation = Date.now() * 1000;

  const createBucket = (name: string, opts: { requesterPays?: boolean } = {}) => {
    if (!buckets.has(name)) buckets.set(name, { objects: new Map(), requesterPays: !!opts.requesterPays });
  };
  for (const b of options.buckets ?? []) createBucket(b);

  const put = (bucket: string, name: string, data: Buffer | string, contentType = 'application/octet-stream'): FakeGcsObject => {
    const b = buckets.get(bucket);
    if (!b) throw new Error(`fake GCS: no bucket ${bucket}`);
    const object = { name, data: Buffer.from(data), contentType, generation: ++generation, updated: new Date() };
    b.objects.set(name, object);
    return object;
  };
  const upload = (bucket: string, name: string, data: Buffer, contentType: string): FakeGcsObject => {
    if (uploadsToCorrupt > 0 && data.length > 0) {
      uploadsToCorrupt--;
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    return put(bucket, name, data, contentType);
  };

  let url = '';
  const server: Server = createServer(async (req, res) => {
    const raw = req.url ?? '/';
    const parsed = new URL(raw, 'http://fake');
    const query = Object.fromEntries(parsed.searchParams);
    const signed = parsed.searchParams.has('X-Goog-Signature') || parsed.searchParams.has('X-Goog-Credential');
    const kind: FakeGcsRequest['kind'] = signed ? 'signed' : 'api';
    const record = { method: req.method ?? 'GET', path: parsed.pathname, query, status: 0, kind };
    requests.push(record);
    const send = (status: number, body: unknown, headers: Record<string, string | number> = {}) => {
      record.status = status;
      if (Buffer.isBuffer(body) || typeof body === 'string') {
        res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : body);
      } else {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(body === undefined ? '' : JSON.stringify(body));
      }
    };
    const apiError = (status: number, message: string, reason = 'invalid') =>
      send(status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
    const xmlError = (status: number, code: string, message: string) =>
      send(status, `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, {
        'content-type': 'application/xml; charset=UTF-8',
      });

    try {
      const fault = faults.find(
        (f) =>
          f.count > 0 &&
          (!f.method || f.method === req.method) &&
          (!f.pathIncludes || parsed.pathname.includes(f.pathIncludes) || f.pathIncludes === `kind:${kind}`) &&
          (!f.queryHas || parsed.searchParams.has(f.queryHas)),
      );
      if (fault && !fault.corrupt) {
        fault.count--;
        await body(req);
        return apiError(fault.status, `scripted fault ${fault.status}`, 'backendError');
      }

      if (signed) return await signedDownload(req, raw, send, xmlError);

      const path = parsed.pathname;
      let m: RegExpExecArray | null;
      if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)) && req.method === 'GET') {
        const b = bucketFor(decodeURIComponent(m[1]!), query, apiError);
        if (!b) return;
        return list(b.objects, query, send);
      }
      if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path))) {
        const bucket = decodeURIComponent(m[1]!);
        const name = decodeURIComponent(m[2]!);
        const b = bucketFor(bucket, query, apiError);
        if (!b) return;
        const object = b.objects.get(name);
        if (req.method === 'DELETE') {
          if (!object) return apiError(404, `No such object: ${bucket}/${name}`, 'notFound');
          b.objects.delete(name);
          return send(204, '');
        }
        if (req.method !== 'GET') return apiError(405, 'method not allowed');
        if (!object) return apiError(404, `No such object: ${bucket}/${name}`, 'notFound');
        if (query.alt === 'media') {
          if (fault?.corrupt) {
            fault.count--;
            const bad = Buffer.from(object.data);
            bad[bad.length >> 1] ^= 0xff;
            return send(200, bad, mediaHeaders(object));
          }
          return send(200, object.data, mediaHeaders(object));
        }
        return send(200, resource(bucket, object));
      }
      if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
        const bucket = decodeURIComponent(m[1]!);
        const b = bucketFor(bucket, query, apiError);
        if (!b) return;
        if (req.method === 'POST' && query.uploadType === 'multipart') return multipart(req, bucket, query, send, apiError);
        if (req.method === 'POST' && query.uploadType === 'media') {
          const data = await body(req);
          if (!query.name) return apiError(400, 'Required parameter: name');
          return send(200, resource(bucket, upload(bucket, query.name, data, header(req, 'content-type') ?? 'application/octet-stream')));
        }
        if (req.method === 'POST' && query.uploadType === 'resumable') {
          const metadata = JSON.parse((await body(req)).toString('utf8') || '{}') as { contentType?: string };
          if (!query.name) return apiError(400, 'Required parameter: name');
          const id = randomBytes(12).toString('hex');
          sessions.set(id, {
            bucket,
            name: query.name,
            contentType: header(req, 'x-upload-content-type') ?? metadata.contentType ?? 'application/octet-stream',
            chunks: [],
            length: 0,
          });
          const location = `${url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(query.name)}&upload_id=${id}`;
          return send(200, '', { location });
        }
        if (req.method === 'PUT' && query.upload_id) return resumableChunk(req, query.upload_id, send, apiError);
      }
      return apiError(404, `fake GCS: no route for ${req.method} ${path}`, 'notFound');
    } catch (err) {
      return apiError(500, `fake GCS: ${(err as Error).message}`, 'backendError');
    }
  });

  function bucketFor(name: string, query: Record<string, string>, apiError: (s: number, m: string, r?: string) => void) {
    const b = buckets.get(name);
    if (!b) return void apiError(404, `The specified bucket does not exist.`, 'notFound');
    if (b.requesterPays && !query.userProject) {
      return void apiError(400, 'Bucket is a requester pays bucket but no user project provided.', 'required');
    }
    return b;
  }

  function list(objects: Map<string, FakeGcsObject>, query: Record<string, string>, send: (s: number, b: unknown) => void) {
    const prefix = query.prefix ?? '';
    const max = Math.min(Number(query.maxResults ?? 1000) || 1000, 1000);
    const after = query.pageToken ? Buffer.from(query.pageToken, 'base64url').toString('utf8') : undefined;
    const delimiter = query.delimiter || undefined;
    const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    // An entry is an object's name or, with a delimiter, a prefix standing for the names under it;
    // a page token is the last entry handed out (past a prefix, the names under it are past too).
    const entries: string[] = [];
    const rolledUp = new Set<string>();
    for (const n of [...objects.keys()].sort(byBytes)) {
      if (!n.startsWith(prefix) || (query.startOffset !== undefined && byBytes(n, query.startOffset) < 0)) continue;
      const cut = delimiter ? n.indexOf(delimiter, prefix.length) : -1;
      const entry = cut === -1 ? n : n.slice(0, cut + delimiter!.length);
      if (after !== undefined && (byBytes(entry, after) <= 0 || (delimiter && after.endsWith(delimiter) && n.startsWith(after)))) continue;
      if (cut !== -1) rolledUp.add(entry);
      if (entry !== entries.at(-1)) entries.push(entry);
    }
    const page = entries.slice(0, max);
    const isPrefix = (e: string) => rolledUp.has(e);
    const bucket = [...buckets.entries()].find(([, b]) => b.objects === objects)![0];
    send(200, {
      kind: 'storage#objects',
      items: page.filter((e) => !isPrefix(e)).map((n) => resource(bucket, objects.get(n)!)),
      ...(delimiter ? { prefixes: page.filter(isPrefix) } : {}),
      ...(entries.length > max ? { nextPageToken: Buffer.from(page.at(-1)!).toString('base64url') } : {}),
    });
  }

  async function multipart(
    req: IncomingMessage,
    bucket: string,
    query: Record<string, string>,
    send: (s: number, b: unknown) => void,
    apiError: (s: number, m: string) => void,
  ) {
    const boundary = /boundary="?([^";]+)"?/.exec(header(req, 'content-type') ?? '')?.[1];
    if (!boundary) return apiError(400, 'multipart upload without a boundary');
    const parts = splitMultipart(await body(req), boundary);
    if (parts.length !== 2) return apiError(400, `multipart upload with ${parts.length} parts`);
    const metadata = JSON.parse(parts[0]!.body.toString('utf8')) as { name?: string; contentType?: string };
    const name = query.name ?? metadata.name;
    if (!name) return apiError(400, 'Required parameter: name');
    const contentType = metadata.contentType ?? parts[1]!.headers['content-type'] ?? 'application/octet-stream';
    send(200, resource(bucket, upload(bucket, name, parts[1]!.body, contentType)));
  }

  async function resumableChunk(
    req: IncomingMessage,
    id: string,
    send: (s: number, b: unknown, h?: Record<string, string>) => void,
    apiError: (s: number, m: string) => void,
  ) {
    const session = sessions.get(id);
    const data = await body(req);
    if (!session) return apiError(404, 'No such upload session');
    const range = header(req, 'content-range') ?? '';
    const progress = (): Record<string, string> => (session.length > 0 ? { range: `bytes=0-${session.length - 1}` } : {});
    let m: RegExpExecArray | null;
    if ((m = /^bytes \*\/(\d+|\*)$/.exec(range))) {
      // Status query (or an empty final request).
      if (m[1] !== '*' && Number(m[1]) === session.length) return finish(session, id, req, send, apiError);
      return send(308, '', progress());
    }
    if (!(m = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(range))) return apiError(400, `bad Content-Range ${JSON.stringify(range)}`);
    const start = Number(m[1]);
    if (start > session.length) return apiError(400, `chunk starts at ${start}, have ${session.length}`);
    if (m[2] !== '*' && Number(m[2]) - start + 1 !== data.length) return apiError(400, 'Content-Range does not match the body');
    const fresh = data.subarray(session.length - start);
    session.chunks.push(fresh);
    session.length += fresh.length;
    const total = m[3] === '*' ? undefined : Number(m[3]);
    // `bytes A-*/…` streams the rest of the object in this one request.
    if (m[2] === '*' || (total !== undefined && session.length >= total)) return finish(session, id, req, send, apiError);
    return send(308, '', progress());
  }

  function finish(
    session: Session,
    id: string,
    req: IncomingMessage,
    send: (s: number, b: unknown) => void,
    apiError: (s: number, m: string) => void,
  ) {
    const data = Buffer.concat(session.chunks);
    // The library sends its CRC32C / MD5 with the last chunk; GCS rejects a mismatch.
    for (const pair of (header(req, 'x-goog-hash') ?? '').split(',').filter(Boolean)) {
      const [type, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const actual = type === 'crc32c' ? crc32cBase64(data) : type === 'md5' ? md5Base64(data) : value;
      if (actual !== value) return apiError(400, `Provided ${type} "${value}" doesn't match calculated ${type} "${actual}".`);
    }
    sessions.delete(id);
    send(200, resource(session.bucket, upload(session.bucket, session.name, data, session.contentType)));
  }

  async function signedDownload(
    req: IncomingMessage,
    raw: string,
    send: (s: number, b: unknown, h?: Record<string, string | number>) => void,
    xmlError: (s: number, c: string, m: string) => void,
  ) {
    await body(req);
    if (req.method !== 'GET' && req.method !== 'HEAD') return xmlError(405, 'MethodNotAllowed', 'signed URLs here are for GET');
    const full = `http://${req.headers.host}${raw}`;
    const check = checkGcsV4Url(full, keys);
    if (!check.ok) return xmlError(check.code === 'ExpiredToken' ? 400 : 403, check.code, check.message);
    const u = new URL(full);
    const [, bucket, ...segments] = u.pathname.split('/');
    const b = buckets.get(decodeURIComponent(bucket ?? ''));
    if (!b) return xmlError(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    if (b.requesterPays && !u.searchParams.get('userProject')) {
      return xmlError(400, 'UserProjectMissing', 'Bucket is a requester pays bucket but no user project provided.');
    }
    const object = b.objects.get(segments.map(decodeURIComponent).join('/'));
    if (!object) return xmlError(404, 'NoSuchKey', 'The specified key does not exist.');
    send(200, object.data, mediaHeaders(object));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    trust: (email, publicKey) => void keys.set(email, publicKey),
    createBucket,
    put,
    get: (bucket, name) => buckets.get(bucket)?.objects.get(name),
    names: (bucket) => [...(buckets.get(bucket)?.objects.keys() ?? [])].sort(),
    fail: (fault) => void faults.push({ ...fault }),
    corruptUploads: (count) => void (uploadsToCorrupt = count),
    clearFaults: () => {
      faults = [];
      uploadsToCorrupt = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function resource(bucket: string, o: FakeGcsObject) {
  return {
    kind: 'storage#object',
    id: `${bucket}/${o.name}/${o.generation}`,
    name: o.name,
    bucket,
    generation: String(o.generation),
    metageneration: '1',
    contentType: o.contentType,
    storageClass: 'STANDARD',
    size: String(o.data.length),
    md5Hash: md5Base64(o.data),
    crc32c: crc32cBase64(o.data),
    etag: createHash('md5').update(`${o.generation}`).digest('base64').slice(0, 12),
    timeCreated: o.updated.toISOString(),
    updated: o.updated.toISOString(),
  };
}

function mediaHeaders(o: FakeGcsObject): Record<string, string | number> {
  return {
    'content-type': o.contentType,
    'content-length': o.data.length,
    'x-goog-generation': String(o.generation),
    'x-goog-hash': `crc32c=${crc32cBase64(o.data)},md5=${md5Base64(o.data)}`,
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-stored-content-length': String(o.data.length),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function splitMultipart(data: Buffer, boundary: string): Array<{ headers: Record<string, string>; body: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let at = data.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (data.subarray(start, start + 2).toString() === '--') break;
    const next = data.indexOf(delimiter, start);
    if (next === -1) break;
    const part = data.subarray(start, next);
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let content = part.subarray(split + 4);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    parts.push({ headers, body: content });
    at = next;
  }
  return parts;
}

function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), big-endian, base64: the form GCS uses in `crc32c` and `x-goog-hash`. */
export function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}
