import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { crc32 } from 'node:zlib';

export type ListingFault = 'none' | 'fail' | 'hang';

export interface ScriptedError {
  /** Which requests answer with the error, e.g. `(r) => r.method === 'PUT'`. */
  match: (r: { method: string; path: string; query: URLSearchParams }) => boolean;
  status: number;
  code: string;
  /** Ceph RGW sends `<Message></Message>` (or none at all); the SDK then reports `UnknownError`. */
  message?: string;
  count: number;
}

/** One scripted ListObjectsV2 page: answered to the request carrying `token` (none: the first page). */
export interface ScriptedListingPage {
  token?: string;
  keys: string[];
  /** The continuation token the page hands out; none ends the listing. */
  next?: string;
}

export interface ProxiedRequest {
  method: string;
  /** Raw path, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  status: number;
}

/**
 * A pass-through proxy in front of the S3 server (s3rver) that makes it behave like real S3 where
 * s3rver does not, and scripts the faults of real S3-compatible stores:
 * - ListObjectsV2 with `encoding-type=url` answers percent-encoded keys and `<EncodingType>url`
 *   (s3rver ignores the parameter and always sends raw keys);
 * - `checksums(true)`: uploads sent with a CRC32 are answered with the CRC32 of the bytes stored
 *   (PutObject's `x-amz-checksum-crc32` header, CompleteMultipartUpload's full-object
 *   `<ChecksumCRC32>`), and HeadObject with `x-amz-checksum-mode: ENABLED` reports it, as S3 does;
 *   `checksums(true, { inAnswers: false })`: only HeadObject reports it;
 * - `s3MultipartEtags(true)`: objects completed from parts get S3's `MD5(part MD5s)-N` ETag (in
 *   the CompleteMultipartUpload answer too);
 * - `opaqueEtags(shape)`: ETags that are not the content's MD5, 32 hex digits (encrypted objects) or
 *   other, in upload answers as on HEAD and GET;
 * - `corruptUploads(n)`: the next n request bodies of PutObject/UploadPart arrive with one byte
 *   flipped and the same length (a store that stores the right size and the wrong content); with
 *   `keepEtags` the store still answers the MD5 of the bytes sent (it lost them after hashing);
 * - `failWith(error)`: scripted error answers, e.g. an empty `<Message>` like Ceph RGW;
 * - `scriptListing(pages)`: ListObjectsV2 answers scripted pages chosen by continuation token
 *   (e.g. a broken store whose tokens alternate between two pages forever);
 * - `arm(kind)`: later listing pages (with a continuation token) answer 500 or never answer
 *   (like a Lambda timeout freezing the invocation mid-listing), after `afterPages` pages.
 * Every request is recorded.
 */
export async function startS3Proxy(target: string) {
  const upstream = new URL(target);
  let fault: ListingFault = 'none';
  let afterPages = 0;
  let continued = 0;
  const hung: ServerResponse[] = [];
  let faults = 0;
  let corruptions = 0;
  let keepEtags = false;
  let reportChecksums = false;
  let checksumsInAnswers = true;
  let multipartEtags = false;
  let opaqueEtags: 'md5-like' | 'other' | undefined;
  /** S3's ETag of each object completed from parts while `multipartEtags` is on, by path. */
  const completedEtags = new Map<string, string>();
  let scripted: ScriptedError[] = [];
  let listingPages: ScriptedListingPage[] | undefined;
  const requests: ProxiedRequest[] = [];
  /** The ETag of the object at `path` while `opaqueEtags` is on: 32 hex digits like an MD5 (encrypted objects), or another shape. */
  const opaqueEtag = (path: string) => {
    const md5 = createHash('md5').update(path).digest('hex');
    return opaqueEtags === 'md5-like' ? md5 : `v1.${md5.slice(0, 12)}`;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest, rewrite?: (status: number, headers: IncomingHttpHeaders, body: Buffer) => Promise<{ headers: IncomingHttpHeaders; body: Buffer }>) => {
    const isUpload = req.method === 'PUT' && !req.headers['x-amz-copy-source'] && Number(req.headers['content-length'] ?? 0) > 0;
    const corrupt = isUpload && corruptions > 0;
    // The MD5 of the bytes as sent, for a store that answers it as the ETag of what it stored wrongly.
    const sentMd5 = corrupt && keepEtags ? createHash('md5') : undefined;
    // A whole object (not a part) uploaded with a CRC32: S3 answers with the CRC32 of what it stored.
    const storedCrc = isUpload && !record.query.has('partNumber') && reportChecksums && checksumsInAnswers && req.headers['x-amz-checksum-crc32'] ? { value: 0 } : undefined;
    const upstreamReq = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      record.status = up.statusCode ?? 502;
      if (!rewrite) {
        const headers = { ...up.headers };
        if (sentMd5) headers.etag = `"${sentMd5.digest('hex')}"`;
        if (isUpload && !record.query.has('partNumber') && opaqueEtags) headers.etag = `"${opaqueEtag(record.path)}"`;
        if (storedCrc && up.statusCode === 200) Object.assign(headers, { 'x-amz-checksum-crc32': crc32Base64(storedCrc.value), 'x-amz-checksum-type': 'FULL_OBJECT' });
        res.writeHead(up.statusCode ?? 502, headers);
        return void up.pipe(res);
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', async () => {
        const out = await rewrite(up.statusCode ?? 502, up.headers, Buffer.concat(chunks));
        if (req.method === 'HEAD') return void res.writeHead(up.statusCode ?? 502, out.headers).end();
        res.writeHead(up.statusCode ?? 502, { ...out.headers, 'content-length': String(out.body.length) }).end(out.body);
      });
    });
    upstreamReq.on('error', () => res.destroy());
    if (corrupt) {
      corruptions--;
      if (sentMd5) req.on('data', (c: Buffer) => sentMd5.update(c));
      const flipped = req.pipe(flipFirstByteOfChunk());
      if (storedCrc) flipped.on('data', (c: Buffer) => (storedCrc.value = crc32(c, storedCrc.value)));
      flipped.pipe(upstreamReq);
    } else {
      if (storedCrc) req.on('data', (c: Buffer) => (storedCrc.value = crc32(c, storedCrc.value)));
      req.pipe(upstreamReq);
    }
  };

  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, status: 0 };
    requests.push(record);

    const error = scripted.find((e) => e.count > 0 && e.match(record));
    if (error) {
      error.count--;
      req.resume();
      record.status = error.status;
      const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${error.code}</Code><Message>${error.message ?? ''}</Message><RequestId>tx0001</RequestId></Error>`;
      return void res.writeHead(error.status, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : body);
    }

    const listing = req.method === 'GET' && url.searchParams.get('list-type') === '2';
    const laterPage = listing && url.searchParams.has('continuation-token');
    if (laterPage && fault !== 'none' && ++continued > afterPages) {
      faults++;
      req.resume();
      if (fault === 'hang') return void hung.push(res);
      record.status = 500;
      return void res.writeHead(500, { 'content-type': 'application/xml' }).end('<Error><Code>InternalError</Code><Message>disk on fire</Message></Error>');
    }
    const scriptedPage = listing && listingPages?.find((p) => p.token === (url.searchParams.get('continuation-token') ?? undefined));
    if (scriptedPage) {
      req.resume();
      record.status = 200;
      return void res.writeHead(200, { 'content-type': 'application/xml' }).end(listingXml(url.pathname.split('/')[1] ?? '', url.searchParams, scriptedPage));
    }
    if (listing && url.searchParams.get('encoding-type') === 'url') {
      return forward(req, res, record, async (status, headers, body) => ({
        headers,
        body: status === 200 ? Buffer.from(urlEncodeListing(body.toString('utf8'))) : body,
      }));
    }
    const completing = req.method === 'POST' && url.searchParams.has('uploadId');
    if (completing && (multipartEtags || opaqueEtags || reportChecksums)) {
      return void collect(req).then((body) => {
        if (multipartEtags) {
          const md5s = [...body.toString('utf8').matchAll(/<ETag>(?:"|&quot;)?([0-9a-f]{32})(?:"|&quot;)?<\/ETag>/g)].map((m) => Buffer.from(m[1]!, 'hex'));
          completedEtags.set(url.pathname, `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}`);
        }
        forwardBody(req, res, record, body, async (answer) => {
          const etag = opaqueEtags ? opaqueEtag(url.pathname) : completedEtags.get(url.pathname);
          let xml = etag ? answer.replace(/<ETag>[^<]*<\/ETag>/, `<ETag>&quot;${etag}&quot;</ETag>`) : answer;
          if (reportChecksums && checksumsInAnswers && req.headers['x-amz-checksum-type'] === 'FULL_OBJECT') {
            const stored = await fetchUpstream(upstream, req, url.pathname);
            xml = xml.replace(/<\/ETag>/, `</ETag><ChecksumCRC32>${crc32Base64(crc32(stored))}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType>`);
          }
          return xml;
        });
      });
    }
    const completed = opaqueEtags ? opaqueEtag(url.pathname) : completedEtags.get(url.pathname);
    if (completed && (req.method === 'HEAD' || req.method === 'GET') && !listing) {
      return forward(req, res, record, async (_status, headers, body) => ({ headers: { ...headers, etag: `"${completed}"` }, body }));
    }
    if (req.method === 'HEAD' && reportChecksums && req.headers['x-amz-checksum-mode'] === 'ENABLED') {
      return forward(req, res, record, async (status, headers, body) => {
        if (status !== 200) return { headers, body };
        const stored = await fetchUpstream(upstream, req);
        return { headers: { ...headers, 'x-amz-checksum-crc32': crc32Base64(crc32(stored)), 'x-amz-checksum-type': 'FULL_OBJECT' }, body };
      });
    }
    forward(req, res, record);
  });
  /** Sends a collected request body on; a successful answer may be rewritten (XML text) on its way back. */
  const forwardBody = (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest, body: Buffer, rewriteAnswer?: (xml: string) => Promise<string>) => {
    const upstreamReq = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      record.status = up.statusCode ?? 502;
      if (!rewriteAnswer || up.statusCode !== 200) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        return void up.pipe(res);
      }
      void collect(up).then(async (answer) => {
        const out = Buffer.from(await rewriteAnswer(answer.toString('utf8')));
        res.writeHead(200, { ...up.headers, 'content-length': String(out.length) }).end(out);
      });
    });
    upstreamReq.on('error', () => res.destroy());
    upstreamReq.end(body);
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    arm(kind: ListingFault, pagesFirst = 0) {
      fault = kind;
      afterPages = pagesFirst;
      continued = 0;
    },
    faults: () => faults,
    corruptUploads(count: number, options: { keepEtags?: boolean } = {}) {
      corruptions = count;
      keepEtags = options.keepEtags ?? false;
    },
    checksums(on: boolean, options: { inAnswers?: boolean } = {}) {
      reportChecksums = on;
      checksumsInAnswers = options.inAnswers ?? true;
    },
    /** Objects completed from parts get S3's ETag, `MD5(part MD5s)-N` (s3rver gives the object's MD5). */
    s3MultipartEtags(on: boolean) {
      multipartEtags = on;
    },
    /** ETags that are not the content's MD5: looking like one (encrypted objects on S3 or MinIO), or not. */
    opaqueEtags(shape: 'md5-like' | 'other' | undefined) {
      opaqueEtags = shape;
    },
    scriptListing(pages: ScriptedListingPage[] | undefined) {
      listingPages = pages;
    },
    failWith(error: ScriptedError) {
      scripted.push({ ...error });
    },
    reset() {
      fault = 'none';
      corruptions = 0;
      reportChecksums = false;
      checksumsInAnswers = true;
      multipartEtags = false;
      opaqueEtags = undefined;
      completedEtags.clear();
      scripted = [];
      listingPages = undefined;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A ListObjectsV2 answer (raw keys, no EncodingType) for a scripted page. */
function listingXml(bucket: string, query: URLSearchParams, page: ScriptedListingPage): string {
  const esc = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const contents = page.keys
    .map((key) => `<Contents><Key>${esc(key)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(bucket)}</Name>` +
    `<Prefix>${esc(query.get('prefix') ?? '')}</Prefix><KeyCount>${page.keys.length}</KeyCount><MaxKeys>${query.get('max-keys') ?? 1000}</MaxKeys>` +
    (page.token ? `<ContinuationToken>${esc(page.token)}</ContinuationToken>` : '') +
    `<IsTruncated>${page.next ? 'true' : 'false'}</IsTruncated>` +
    (page.next ? `<NextContinuationToken>${esc(page.next)}</NextContinuationToken>` : '') +
    `${contents}</ListBucketResult>`
  );
}

/** Flips one byte in the middle of the first chunk: same length, different content. */
function flipFirstByteOfChunk(): Transform {
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!done && chunk.length > 0) {
        done = true;
        const bad = Buffer.from(chunk);
        bad[bad.length >> 1]! ^= 0xff;
        return callback(null, bad);
      }
      callback(null, chunk);
    },
  });
}

/**
 * What S3 answers with `encoding-type=url`: keys (and prefixes) percent-encoded the way S3 does
 * (UTF-8, space as `+`, `/` kept), plus `<EncodingType>url</EncodingType>`.
 */
function urlEncodeListing(xml: string): string {
  const encode = (text: string) => encodeURIComponent(unescapeXml(text)).replaceAll('%20', '+').replaceAll('%2F', '/');
  const encoded = xml.replace(/<(Key|Prefix|StartAfter|Delimiter)>([^<]*)<\/\1>/g, (_m, tag: string, text: string) => `<${tag}>${encode(text)}</${tag}>`);
  return encoded.replace(/(<ListBucketResult[^>]*>)/, '$1<EncodingType>url</EncodingType>');
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#x?[0-9a-fA-F]+);/g, (_m, entity: string) => {
    if (entity === 'lt') return '<';
    if (entity === 'gt') return '>';
    if (entity === 'quot') return '"';
    if (entity === 'apos') return "'";
    if (entity === 'amp') return '&';
    return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
  });
}

async function collect(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The stored object `req` names (at `path`, when its own has a query that is not a GET's), read from the server. */
function fetchUpstream(upstream: URL, req: IncomingMessage, path = req.url): Promise<Buffer> {
  const headers = { ...req.headers, host: req.headers.host };
  delete headers['content-length'];
  delete headers['content-type'];
  return new Promise((resolve, reject) => {
    const get = request({ host: upstream.hostname, port: upstream.port, method: 'GET', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    get.on('error', reject);
    get.end();
  });
}

function crc32Base64(crc: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}
