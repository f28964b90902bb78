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
}
