/** Public option and handle types of the LlamaCloud emulator (re-exported by index.ts). */
import type { RecordedRequest as KitRecordedRequest } from '../emulator-kit/recorded-request';
import type { ScriptedFailure } from '../emulator-kit/scripted-failures';

export type ProductType = 'parse_v2' | 'extract_v2';

export interface LlamaEmulatorFaults {
  /** Next `count` API requests whose path contains `pathIncludes` get `status` (429/503 add `Retry-After`). */
  failures?: ScriptedFailure[];
  /** Every webhook event is delivered twice with the same event_id and the same raw body. */
  duplicateDeliveries?: boolean;
  /** Each webhook event waits this long before its first delivery attempt. */
  webhookDelayMs?: number;
  /** Files whose display_name matches get a FAILED job (with error_message) inside a COMPLETED batch. */
  failFilesNamed?: RegExp;
  /** The `error_message` of those jobs, from the file's display name (default: a short emulated-failure message). */
  failureMessage?: (displayName: string) => string;
  /** Batches created while this is on end FAILED (orchestration failure, `batch.error`, no results). */
  failBatches?: boolean;
}

export interface LlamaEmulatorOptions {
  apiKey: string;
  host?: string;
  port?: number;
  /** Largest page a list endpoint returns (default 3). */
  pageSize?: number;
  /** Largest accepted `upload_file` (default 512 MiB); larger uploads get 413. */
  maxUploadBytes?: number;
  /** Time each per-file job takes (default 30 ms). */
  jobDelayMs?: number;
  /** Known configuration ids (default cfg-PARSE_AGENTIC for parse_v2, cfg-extract-emulated for extract_v2). */
  configurations?: Array<{ id: string; product_type: ProductType }>;
  faults?: LlamaEmulatorFaults;
}

/**
 * Its `authorization` header is replaced by `[redacted]`; `body` is the parsed JSON body, or
 * `{fields, fileSize, fileName}` for multipart uploads.
 */
export type RecordedRequest = KitRecordedRequest;

export interface WebhookDelivery {
  url: string;
  /** Headers as sent (the configured `webhook_headers` included). */
  headers: Record<string, string>;
  /** Exact bytes sent (what LC-Signature covers). */
  rawBody: string;
  /** The event object `{event_id, event_type, timestamp, data}`, whatever the output format. */
  body: any;
  status: number | 'error';
}

export interface RunningLlamaEmulator {
  url: string;
  requests: RecordedRequest[];
  webhookDeliveries: WebhookDelivery[];
  /** Total bytes of `upload_file` parts received by uploads the emulator parsed. */
  uploadedBytes(): number;
  /** Highest number of uploads in flight at once. */
  maxConcurrentUploads(): number;
  setFaults(f: LlamaEmulatorFaults): void;
  close(): Promise<void>;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  apiKey: string;
  host: string;
  port: number;
  pageSize: number;
  maxUploadBytes: number;
  jobDelayMs: number;
  configurations: Map<string, ProductType>;
  projectId: string;
}
