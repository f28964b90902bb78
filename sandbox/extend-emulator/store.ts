/** In-memory state of the emulator: batches, runs and the files runs have ingested. */
import type { ProcessorKind } from './kinds';
import type { FileInput, RunStatus } from './schemas';
import type { ExtendProcessor } from './types';

export type BatchStatus = 'PENDING' | 'PROCESSING' | 'PROCESSED' | 'FAILED' | 'CANCELLED';

/** A file a run has obtained (downloaded, given as text, or reused by id). */
export interface FileRecord {
  id: string;
  name: string;
  type: string | null;
  size: number;
  sha256: string;
  mimeType: string;
  pageCount: number;
  lineCount: number | null;
  createdAt: string;
}

export interface RunState {
  /** Creation order across the whole emulator; the tie-breaker of every sort. */
  seq: number;
  id: string;
  kind: ProcessorKind;
  batchId: string;
  processor: Required<ExtendProcessor>;
  /** Resolved version (`draft` or a published version). */
  version: string;
  input: FileInput;
  status: RunStatus;
  failureReason: string | null;
  failureMessage: string | null;
  metadata: Record<string, unknown> | null;
  file: FileRecord | null;
  output: unknown;
  createdAt: string;
  createdMs: number;
  updatedAt: string;
  updatedMs: number;
}

export interface BatchState {
  id: string;
  kind: ProcessorKind;
  status: BatchStatus;
  runIds: string[];
  /** Runs that reached PROCESSED, FAILED or CANCELLED. */
  endedRuns: number;
  createdAt: string;
}

export class Store {
  readonly batches = new Map<string, BatchState>();
  readonly runs = new Map<string, RunState>();
  readonly files = new Map<string, FileRecord>();
  /** Aborts the file fetch of a run that is being processed (used by cancel). */
  readonly inFlight = new Map<string, AbortController>();
  private nextSeq = 0;

  takeSeq(): number {
    return this.nextSeq++;
  }
}

/** Stamps `updatedAt`; timestamps never go backwards within one run. */
export function touch(run: RunState): void {
  const now = Math.max(Date.now(), run.updatedMs);
  run.updatedMs = now;
  run.updatedAt = new Date(now).toISOString();
}
