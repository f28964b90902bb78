/** Signed URLs served by the emulator itself (no api_key; HMAC-SHA256 over id + expiry): downloads, and the upload PUTs. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sendJson } from '../emulator-kit/http-io';
import type { Store, StoredContent } from './store';

export const DOWNLOAD_PREFIX = '/_downloads/';
const URL_TTL_SECONDS = 24 * 3600;

const CHUNK_BYTES = 64 * 1024;

/** Signs URLs under one path prefix (`/_downloads/` unless told otherwise). */
export class UrlSigner {
  private readonly secret = randomBytes(32);

  constructor(
    private readonly baseUrl: () => string,
    readonly prefix = DOWNLOAD_PREFIX,
  ) {}

  urlFor(contentId: string, ttlSeconds = URL_TTL_SECONDS): string {
    const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
    const signature = this.sign(contentId, expires);
    return `${this.baseUrl()}${this.prefix}${encodeURIComponent(contentId)}?expires=${expires}&signature=${signature}`;
  }

  /** The id a URL under this prefix names, if its signature is valid and unexpired. */
  verifiedId(url: URL): string | undefined {
    const id = decodeURIComponent(url.pathname.slice(this.prefix.length));
    return this.verify(id, url.searchParams.get('expires'), url.searchParams.get('signature')) ? id : undefined;
  }

  verify(contentId: string, expires: string | null, signature: string | null): boolean {
    if (!expires || !/^\d+$/.test(expires) || !signature || !/^[0-9a-f]{64}$/.test(signature)) return false;
    if (Number(expires) < Date.now() / 1000) return false;
    const expected = Buffer.from(this.sign(contentId, Number(expires)), 'hex');
    return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
  }

  private sign(contentId: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${contentId}\n${expires}`).digest('hex');
  }
}

export async function serveDownload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  signer: UrlSigner,
  store: Store,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
  const contentId = signer.verifiedId(url);
  if (contentId === undefined) return sendJson(res, 403, { error: 'signature does not match or URL has expired' });
  const content = store.getContent(contentId);
  if (!content) return sendJson(res, 404, { error: 'object not found' });
  const size = content.kind === 'bytes' ? content.data.length : content.size;
  res.writeHead(200, { 'content-type': content.mimeType, 'content-length': size });
  if (req.method === 'HEAD') return void res.end();
  await pipeline(Readable.from(chunksOf(content)), res);
}

function* chunksOf(content: StoredContent): Generator<Buffer> {
  if (content.kind === 'bytes') {
    for (let at = 0; at < content.data.length; at += CHUNK_BYTES) yield content.data.subarray(at, at + CHUNK_BYTES);
    return;
  }
  const zeros = Buffer.alloc(CHUNK_BYTES);
  for (let left = content.size; left > 0; left -= CHUNK_BYTES) yield left >= CHUNK_BYTES ? zeros : zeros.subarray(0, left);
}
