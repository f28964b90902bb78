import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventClaim, StateStore } from '../port';
import type { Chunk, ChunkKey, ExportTaskResult, FileFailure, NameMapping, RunRecord } from '../run-record';
import { exportPass, type ExportTaskOrder } from '../export-order';
import { DynamoChunkItems } from './chunk-items';
import { DynamoExportCompletion } from './export-completion';
import { DynamoEventLog } from './event-store';
import type { PartitionStore } from '../partition-store';
import { DynamoPartitionItems } from './partition-items';
import { resolveOptions, type DynamoStateOptions } from './operations';
import { DynamoRunItems } from './run-items';
import { DynamoRunRecords } from './run-store';

/** The deployed state store: one DynamoDB table (see table.ts for the key layout). */
export class DynamoStateStore implements StateStore {
  readonly partitions: PartitionStore;
  private readonly runs: DynamoRunRecords;
  private readonly events: DynamoEventLog;
  private readonly items: DynamoRunItems;
  private readonly chunkItems: DynamoChunkItems;
  private readonly completion: DynamoExportCompletion;

  constructor(doc: DynamoDBDocumentClient, tableName: string, options: DynamoStateOptions = {}) {
    const resolved = resolveOptions(options);
    this.chunkItems = new DynamoChunkItems(doc, tableName, resolved);
    this.runs = new DynamoRunRecords(doc, tableName, resolved, this.chunkItems);
    this.events = new DynamoEventLog(doc, tableName, resolved);
    this.partitions = new DynamoPartitionItems(doc, tableName, resolved);
    this.items = new DynamoRunItems(doc, tableName, resolved);
    this.completion = new DynamoExportCompletion(doc, tableName, async (runId) => {
      const run = await this.runs.get(runId);
      return run && { total: run.exportTasks, pass: exportPass(run) };
    }, resolved.exportGroupSize);
  }

  createRun(run: RunRecord): Promise<void> {
    return this.runs.create(run);
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId);
  }

  updateRun(runId: string, change: (run: RunRecord) => RunRecord): Promise<RunRecord> {
    return this.runs.update(runId, change);
  }

  updateChunk(runId: string, key: ChunkKey, change: (chunk: Chunk | undefined) => Chunk | undefined): Promise<Chunk | undefined> {
    return this.chunkItems.update(runId, key, change);
  }

  getChunk(runId: string, key: ChunkKey): Promise<Chunk | undefined> {
    return this.chunkItems.get(runId, key);
  }

  chunks(runId: string): AsyncIterable<Chunk> {
    return this.chunkItems.list(runId);
  }

  findRunByBatchId(batchId: string): Promise<RunRecord | undefined> {
    return this.runs.findByBatchId(batchId);
  }

  findRunByJobId(jobId: string): Promise<RunRecord | undefined> {
    return this.runs.findByJobId(jobId);
  }

  linkJob(jobId: string, runId: string): Promise<void> {
    return this.runs.linkJob(jobId, runId);
  }

  hasEvent(eventId: string): Promise<boolean> {
    return this.events.has(eventId);
  }

  recordEvent(eventId: string): Promise<boolean> {
    return this.events.record(eventId);
  }

  claimEvent(eventId: string, claim: EventClaim): Promise<'claimed' | 'in-flight' | 'done'> {
    return this.events.claim(eventId, claim);
  }

  completeEvent(eventId: string): Promise<void> {
    return this.events.complete(eventId);
  }

  releaseEvent(eventId: string, owner: string): Promise<void> {
    return this.events.release(eventId, owner);
  }

  appendNames(runId: string, entries: NameMapping[]): Promise<void> {
    return this.items.appendNames(runId, entries);
  }

  names(runId: string): AsyncIterable<NameMapping> {
    return this.items.names(runId);
  }

  resolveNames(runId: string, names: Iterable<string>): Promise<Map<string, string>> {
    return this.items.resolveNames(runId, names);
  }

  recordFailures(runId: string, failures: FileFailure[]): Promise<void> {
    return this.items.recordFailures(runId, failures);
  }

  failures(runId: string): AsyncIterable<FileFailure> {
    return this.items.failures(runId);
  }

  forgetFailures(runId: string, stage: FileFailure['stage'], names: Iterable<string>): Promise<void> {
    return this.items.forgetFailures(runId, stage, names);
  }

  async recordExportTask(runId: string, result: ExportTaskResult, order?: ExportTaskOrder): Promise<{ complete: boolean }> {
    await this.items.recordExportTask(runId, result);
    return { complete: await this.completion.recorded(runId, result.taskId, order) };
  }

  async checkExportComplete(runId: string): Promise<{ complete: boolean }> {
    return { complete: await this.completion.planned(runId) };
  }

  exportTaskResults(runId: string): AsyncIterable<ExportTaskResult> {
    return this.items.exportTaskResults(runId);
  }

  resetExport(runId: string): Promise<void> {
    return this.items.resetExport(runId);
  }
}
