/** Roboflow-style errors (`{"error": message}`) and the request-body reading and parsing that raise them. */
import type { IncomingMessage } from 'node:http';
import * as kit from '../emulator-kit/http-io';

/** Thrown by handlers; the server turns it into `{"error": message}` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);

// Inline reference lists may hold 20k signed URLs (tens of MB).
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export const readBody = (req: IncomingMessage) => kit.readBody(req, MAX_BODY_BYTES, (message) => new HttpError(413, message));
export const parseJsonBody = (raw: Buffer) => kit.parseJsonBody(raw, () => badRequest('request body is not valid JSON'));
