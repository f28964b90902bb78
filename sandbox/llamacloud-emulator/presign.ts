/**
 * Presigned result URLs served by the emulator itself: no Authorization header, an HMAC-SHA256
 * signature over job id + result name + expiry instead. Wrong signature or past expiry → 403.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-io';

export const RESULTS_PREFIX = '/_results/';
export const PRESIGNED_TTL_SECONDS = 3600;

export interface ResultFile {
  contentType: string;
  body: Buffer;
}

export class ResultSigner {
  private readonly secret = randomBytes(32);

  constructor(private readonly baseUrl: () => string) {}

  urlFor(jobId: string, name: string, ttlSeconds = PRESIGNED_TTL_SECONDS): { url: string; expiresAt: string } {
    const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
    const signature = this.sign(jobId, name, expires);
    return {
      url: `${this.baseUrl()}${RESULTS_PREFIX}${encodeURIComponent(jobId)}/${encodeURIComponent(name)}?expires=${expires}&signature=${signature}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  verify(jobId: string, name: string, expires: string | null, signature: string | null): boolean {
    if (!expires || !/^\d{1,12}$/.test(expires) || !signature || !/^[0-9a-f]{64}$/.test(signature)) return false;
    if (Number(expires) < Date.now() / 1000) return false;
    const expected = Buffer.from(this.sign(jobId, name, Number(expires)), 'hex');
    return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
  }

  private sign(jobId: string, name: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${jobId}\n${name}\n${expires}`).digest('hex');
  }
}

/** Serves `/_results/{jobId}/{name}`; `load` returns the file or undefined when it does not exist. */
export function serveResult(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  signer: ResultSigner,
  load: (jobId: string, name: string) => ResultFile | undefined,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { detail: 'Method Not Allowed' });
  const segments = url.pathname.slice(RESULTS_PREFIX.length).split('/');
  let jobId: string;
  let name: string;
  try {
    if (segments.length !== 2) throw new Error('bad path');
    [jobId, name] = segments.map(decodeURIComponent) as [string, string];
  } catch {
    return sendJson(res, 404, { detail: 'Not Found' });
  }
  if (!signer.verify(jobId, name, url.searchParams.get('expires'), url.searchParams.get('signature'))) {
    return sendJson(res, 403, { detail: 'signature does not match or the URL has expired' });
  }
  const file = load(jobId, name);
  if (!file) return sendJson(res, 404, { detail: 'Not Found' });
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}
