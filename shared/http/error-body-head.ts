import type { Readable } from 'node:stream';

/** How much of a non-2xx body is read for its message (which is then scrubbed and cut to REMOTE_TEXT_MAX_CHARS). */
export const ERROR_BODY_MAX_BYTES = 64 * 1024;

/**
 * The start of an error body, at most {@link ERROR_BODY_MAX_BYTES}; the rest is never read (the
 * body is destroyed), so a hostile or broken server cannot make us buffer and scrub megabytes.
 */
export async function errorBodyHead(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body) {
      const piece = Buffer.from(chunk as Uint8Array).subarray(0, ERROR_BODY_MAX_BYTES - bytes);
      chunks.push(piece);
      bytes += piece.length;
      if (bytes >= ERROR_BODY_MAX_BYTES) break;
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
