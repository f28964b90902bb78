import type { IncomingMessage } from 'node:http';
import { firstValues } from './http-io';

/** What an emulator keeps of each API request, for tests to inspect (so secrets in it are redacted). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** 0 until the response is sent. */
  status: number;
}

/** Stands in for a secret in a recorded request. */
export const REDACTED = '[redacted]';

/**
 * A new record of a request as it arrives (no body yet, status 0). The API's credential (a query
 * parameter, or the Authorization header) is checked by the emulator but never kept: records end
 * up in test output.
 */
export function recordOf(req: IncomingMessage, url: URL, credential: { queryParam: string } | 'authorization'): RecordedRequest {
  const query = firstValues(url.searchParams);
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: credential !== 'authorization' && credential.queryParam in query ? { ...query, [credential.queryParam]: REDACTED } : query,
    headers: credential === 'authorization' && req.headers.authorization !== undefined ? { ...req.headers, authorization: REDACTED } : { ...req.headers },
    body: undefined,
    status: 0,
  };
}
