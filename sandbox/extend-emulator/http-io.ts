/** Extend-style errors (`{ code, message, retryable, requestId }`) and the request-body reading and parsing that raise them. */
import type { IncomingMessage } from 'node:http';
import * as kit from '../emulator-kit/http-io';
import { newId } from './ids';

/** Thrown by handlers; the server turns it into an Extend error body with `status`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const invalidRequest = (message: string) => new ApiError(400, 'INVALID_REQUEST', message);
export const notFound = (message: string) => new ApiError(404, 'NOT_FOUND', message);

/** Error code Extend uses for an HTTP status (codes outside the published list are the emulator's own). */
export function codeForStatus(status: number): string {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 402) return 'USAGE_BLOCKED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMIT_EXCEEDED';
  if (status >= 500) return 'INTERNAL_ERROR';
  return 'INVALID_REQUEST';
}

/** Whether a client may retry the same request unchanged. */
export const isRetryable = (status: number) => status === 408 || status === 429 || status >= 500;

export function errorBody(status: number, code: string, message: string): Record<string, unknown> {
  return { code, message, retryable: isRetryable(status), requestId: newId('req') };
}

// 1000 inputs with 10 KB metadata each is about 10 MB.
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export const readBody = (req: IncomingMessage) =>
  kit.readBody(req, MAX_BODY_BYTES, (message) => new ApiError(413, 'INVALID_REQUEST', message));
export const parseJsonBody = (raw: Buffer) => kit.parseJsonBody(raw, () => invalidRequest('request body is not valid JSON'));
