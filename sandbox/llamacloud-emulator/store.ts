/** In-memory state of the emulator: directories and their files, batches, and per-file jobs. */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from './http-io';
import type { ProductType } from './types';

export type DirectoryType = 'ephemeral' | 'user';
export type BatchStatus = 'PENDING' | 'THROTTLED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export type JobStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export type MetadataValue = string | number | boolean | string[];

/** Uploads keep at most this many leading bytes; fake results are derived from them plus size + hash. */
export const KEEP_HEAD_BYTES = 64 * 1024;
export const MAX_FILES_PER_DIRECTORY = 10_000;
const EPHEMERAL_TTL_MS = 24 * 3600 * 1000;

export interface Directory {
  id: string;
  name: string;
  description: string | null;
  type: DirectoryType;
  connectorSubscriptionId: string | null;
  systemMetadata: Record<string, unknown> | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  files: DirectoryFile[];
  filesById: Map<string, DirectoryFile>;
  uniqueIds: Set<string>;
}

export interface StoredUpload {
  fileName: string;
  mimeType: string;
  size: number;
  sha256: string;
  /** The first KEEP_HEAD_BYTES bytes. */
  head: Buffer;
}

export interface DirectoryFile {
  id: string;
  directoryId: string;
  displayName: string;
  uniqueId: string;
  externalFileId: string | null;
  fileId: string;
  metadata: Record<string, MetadataValue>;
  createdAt: string;
  updatedAt: string;
  content: StoredUpload;
}

export interface WebhookConfig {
  webhookUrl: string;
  /** null = every event. */
  events: string[] | null;
  headers: Record<string, string>;
  outputFormat: 'string' | 'json';
  signingSecret: string | null;
}

export interface BatchResult {
  source_directory_file_id: string;
  job_reference: { type: ProductType; id: string } | null;
  error_message: string | null;
}

export interface Batch {
  id: string;
  sourceDirectoryId: string;
  jobType: ProductType;
  configurationId: string;
  status: BatchStatus;
  createdAt: string;
  updatedAt: string;
  /** null until RUNNING (and for FAILED batches). */
  results: BatchResult[] | null;
  /** Directory files as they were when the batch was created. */
  files: DirectoryFile[];
  cancelRequested: boolean;
  /** Set at creation from the `failBatches` fault. */
  orchestrationFails: boolean;
}

export interface Job {
  id: string;
  kind: ProductType;
  batchId: string;
  configurationId: string;
  file: DirectoryFile;
  status: JobStatus;
  errorMessage: string | null;
  createdAt: string;
  updatedAt: string;
}

export const nowIso = () => new Date().toISOString();
export const newId = (prefix: string) => `${prefix}-${randomUUID()}`;

export class Store {
  readonly directories = new Map<string, Directory>();
  readonly batches = new Map<string, Batch>();
  readonly jobs = new Map<string, Job>();

  createDirectory(init: Pick<Directory, 'name' | 'description' | 'type' | 'connectorSubscriptionId' | 'systemMetadata'>): Directory {
    const now = new Date();
    const directory: Directory = {
      ...init,
      id: newId('dir'),
      expiresAt: init.type === 'ephemeral' ? new Date(now.getTime() + EPHEMERAL_TTL_MS).toISOString() : null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      files: [],
      filesById: new Map(),
      uniqueIds: new Set(),
    };
    this.directories.set(directory.id, directory);
    return directory;
  }

  getDirectory(id: string): Directory {
    const directory = this.directories.get(id);
    if (!directory) throw notFound(`Directory ${id} not found`);
    return directory;
  }

  addFile(directory: Directory, init: Omit<DirectoryFile, 'id' | 'directoryId' | 'fileId' | 'createdAt' | 'updatedAt'>): DirectoryFile {
    if (directory.uniqueIds.has(init.uniqueId)) {
      throw conflict(`A file with unique_id '${init.uniqueId}' already exists in directory ${directory.id}`);
    }
    if (directory.files.length >= MAX_FILES_PER_DIRECTORY) {
      throw badRequest(`directory ${directory.id} already holds the emulator's maximum of ${MAX_FILES_PER_DIRECTORY} files`);
    }
    const now = nowIso();
    const file: DirectoryFile = { ...init, id: newId('dfl'), directoryId: directory.id, fileId: randomUUID(), createdAt: now, updatedAt: now };
    directory.files.push(file);
    directory.filesById.set(file.id, file);
    directory.uniqueIds.add(file.uniqueId);
    directory.updatedAt = now;
    return file;
  }

  getFile(directory: Directory, fileId: string): DirectoryFile {
    const file = directory.filesById.get(fileId);
    if (!file) throw notFound(`File ${fileId} not found in directory ${directory.id}`);
    return file;
  }

  getBatch(id: string): Batch {
    const batch = this.batches.get(id);
    if (!batch) throw notFound(`Batch ${id} not found`);
    return batch;
  }

  getJob(id: string, kind: ProductType): Job {
    const job = this.jobs.get(id);
    if (!job || job.kind !== kind) throw notFound(`Job ${id} not found`);
    return job;
  }
}
