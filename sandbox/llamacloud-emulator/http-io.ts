/**
 * HTTP helpers. Errors use the FastAPI shape LlamaCloud answers with: `{"detail": <string>}`, and for
 * request validation (422) `{"detail": [{type, loc, msg}]}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as kit from '../emulator-kit/http-io';

/** Thrown by handlers; the server answers `status` with `{"detail": detail}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
    this.name = 'HttpError';
  }
}

export interface ValidationIssue {
  type: string;
  loc: Array<string | number>;
  msg: string;
}

export const badRequest = (detail: string) => new HttpError(400, detail);
export const notFound = (detail: string) => new HttpError(404, detail);
export const conflict = (detail: string) => new HttpError(409, detail);
export const unprocessable = (issues: ValidationIssue[]) => new HttpError(422, issues);

/** JSON request bodies are small (batch and directory definitions). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** Reads a JSON body; bodies over the cap get 413 (the rest is discarded so the client sees the answer). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
    if (size > MAX_JSON_BODY_BYTES * 16) throw new HttpError(413, 'request body too large', { connection: 'close' });
  }
  if (tooLarge) throw new HttpError(413, `request body exceeds ${MAX_JSON_BODY_BYTES} bytes`);
  return Buffer.concat(chunks);
}

/**
 * Consumes and discards a request body the emulator rejected before reading it, so the client reliably
 * receives the answer (memory stays constant; the time is bounded by what the client sends).
 */
export async function drainBody(req: IncomingMessage): Promise<void> {
  for await (const chunk of req) void chunk;
}

export const parseJsonBody = (raw: Buffer) =>
  kit.parseJsonBody(raw, () => unprocessable([{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error' }]));

/** Sends JSON as FastAPI does: `application/json` without a charset. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  kit.sendJson(res, status, body, { 'content-type': 'application/json', ...headers });
}

/** True for errors caused by the client going away or the emulator closing its connections. */
export function isConnectionGone(err: unknown, req: IncomingMessage): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return req.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
