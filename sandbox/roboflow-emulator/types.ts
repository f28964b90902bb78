/** Public option and handle types of the Roboflow emulator (re-exported by index.ts). */
import type { RecordedRequest as KitRecordedRequest } from '../emulator-kit/recorded-request';
import type { ScriptedFailure } from '../emulator-kit/scripted-failures';

export interface EmulatorFaults {
  /** Next `count` API requests whose path contains `pathIncludes` get `status` (429/503 add `Retry-After`). */
  failures?: ScriptedFailure[];
  /** Every webhook is delivered twice: same event_id, delivery_attempt 1 then 2. */
  duplicateDeliveries?: boolean;
  /** Each webhook is delayed by a random 0..webhookDelayMs. */
  webhookDelayMs?: number;
  /** Webhooks of one ingest/job go out in a random order that differs from the default (files-status first). */
  shuffleWebhooks?: boolean;
  /**
   * Name of the stage that packs a new job's results after `processing`: `export` (default), another
   * name, or null for no such stage (the job ends after `processing`, whose output is the result).
   */
  exportStageName?: string | null;
  /**
   * How a POST to an existing job id is answered. Unset (default): 200 for the same definition, 409
   * for another. A status: that answer to every repeated POST, whatever its body (200 keeps the
   * existing job as it is).
   */
  repeatedJobPostStatus?: number;
  /** The next `n` job POSTs are carried out but answered 504, as when a gateway loses the answer. */
  lostJobStartAnswers?: number;
  /** Ingests whose references file or references are `http://` URLs are refused with 400. */
  refuseHttpReferences?: boolean;
  /** Hosts refused as `unsafe-url-detected` at ingest, even when `trustedHosts` lists them. */
  untrustedHosts?: string[];
  /**
   * A plan without signed-URL ingest: every references ingest is refused. `true` answers the request 403
   * `{"error": "Only Growth Plan customers and Enterprise customers can ingest data through signed URLs."}`
   * and creates nothing; an object sets the status and/or the error text, or (`during: 'ingest'`) accepts
   * the request and fails the ingest as a whole (`signed-url-ingest-not-allowed`, the text as reason).
   * Roboflow documents none of these.
   */
  signedUrlIngestRefused?: boolean | { status?: number; error?: string; during?: 'request' | 'ingest' };
  /** Upload PUTs without `Content-Length` (chunked) are refused 411, as S3-style storage does; by default they are taken. */
  uploadsRequireContentLength?: boolean;
}

export interface EmulatorOptions {
  apiKey: string;
  workspace: string;
  workspaceId?: string;
  host?: string;
  port?: number;
  pageSize?: number;
  trustedHosts?: string[];
  ingestDelayMs?: number;
  jobStageDelayMs?: number;
  maxImageBytes?: number;
  /** `maxNumberOfImages` announced for each bulk-upload archive (default 500, as Roboflow's docs say). */
  maxImagesPerArchive?: number;
  /** `maxShardSize` announced for each bulk-upload archive, in bytes (default 512 MiB). */
  maxArchiveBytes?: number;
  faults?: EmulatorFaults;
}

/** Its `api_key` query parameter is replaced by `[redacted]`. */
export type RecordedRequest = KitRecordedRequest;

export interface WebhookDelivery {
  url: string;
  body: any;
  status: number | 'error';
}

export interface RunningEmulator {
  url: string;
  requests: RecordedRequest[];
  webhookDeliveries: WebhookDelivery[];
  setFaults(f: EmulatorFaults): void;
  jobsStarted(): string[];
  close(): Promise<void>;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  apiKey: string;
  workspace: string;
  workspaceId: string;
  host: string;
  port: number;
  pageSize: number;
  trustedHosts: string[];
  ingestDelayMs: number;
  jobStageDelayMs: number;
  maxImageBytes: number;
  maxImagesPerArchive: number;
  maxArchiveBytes: number;
}
