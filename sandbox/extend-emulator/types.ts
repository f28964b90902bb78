/** Public option and handle types of the Extend emulator (re-exported by index.ts). */
import type { RecordedRequest } from '../emulator-kit/recorded-request';
import type { ScriptedFailure } from '../emulator-kit/scripted-failures';

export type ProcessorType = 'extract' | 'classify' | 'split';

export interface ExtendEmulatorFaults {
  /**
   * The next `count` API requests whose path contains `pathIncludes` (and whose method matches, when given)
   * are answered with `status`. 429 always carries `Retry-After` (default 0 s); other statuses only when
   * `retryAfterSeconds` is set. `body` defaults to an Extend error body `{ code, message, retryable }`.
   */
  failures?: ScriptedFailure[];
  /** Every webhook event is delivered twice with the same eventId. */
  duplicateDeliveries?: boolean;
  /** Each webhook event waits a random 0..webhookDelayMs before its first attempt. */
  webhookDelayMs?: number;
  /** Inputs whose URL matches are downloaded, then fail with `FAILED_TO_PROCESS_FILE`. */
  failUrlsMatching?: RegExp;
  /** The `failureMessage` of those runs, from their input URL (default: a short emulated-failure message). */
  failureMessage?: (inputUrl: string) => string;
}

export interface ExtendProcessor {
  id: string;
  type: ProcessorType;
  /** Published versions, oldest first; `latest` resolves to the last one, or `draft` when empty. */
  versions?: string[];
}

export interface ExtendEmulatorOptions {
  /** Bearer token every API request must carry. */
  apiKey: string;
  /** Webhook signing secret (default `wss_` + random); exposed on the handle. */
  signingSecret?: string;
  /** Stand-in for a registered webhook endpoint; without it no webhooks are sent. */
  webhookUrl?: string;
  /** Known processors; default one of each type: ex_emulated, cl_emulated, sp_emulated. */
  processors?: ExtendProcessor[];
  host?: string;
  port?: number;
  /** Largest page the list endpoints return (default 3). */
  pageSize?: number;
  /** Processing time per run after its file is available (default 30 ms). */
  runDelayMs?: number;
  /** Largest `inputs` array a batch may have (default 1000). */
  maxInputsPerBatch?: number;
  faults?: ExtendEmulatorFaults;
}

/** Its `authorization` header is replaced by `[redacted]`. */
export type ExtendRecordedRequest = RecordedRequest;

export interface ExtendWebhookDelivery {
  url: string;
  headers: Record<string, string>;
  rawBody: string;
  body: any;
  status: number | 'error';
}

export interface RunningExtendEmulator {
  url: string;
  signingSecret: string;
  requests: ExtendRecordedRequest[];
  /** One entry per delivery attempt, in the order the attempts ended. */
  webhookDeliveries: ExtendWebhookDelivery[];
  setFaults(f: ExtendEmulatorFaults): void;
  /** Number of input URLs whose download succeeded (2xx, body read completely). */
  runsFetched(): number;
  close(): Promise<void>;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  apiKey: string;
  signingSecret: string;
  webhookUrl: string | undefined;
  processors: Array<Required<ExtendProcessor>>;
  host: string;
  port: number;
  pageSize: number;
  runDelayMs: number;
  maxInputsPerBatch: number;
}
