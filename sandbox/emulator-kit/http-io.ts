/** JSON request/response plumbing; each emulator supplies its own error type through the `*Error` callbacks. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads the whole body; past `maxBytes` it stops reading and throws `tooLarge(message)`. */
export async function readBody(req: IncomingMessage, maxBytes: number, tooLarge: (message: string) => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(`request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body; `undefined` for an empty body. */
export function parseJsonBody(raw: Buffer, invalidJson: () => Error): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalidJson();
  }
}

/** First value of each query parameter. */
export function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) if (!(key in out)) out[key] = value;
  return out;
}

/** `headers` may override the content type. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}
