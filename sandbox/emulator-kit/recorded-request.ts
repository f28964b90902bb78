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
