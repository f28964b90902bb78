import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../../concurrency';
import { ExportTaskResult, FileFailure, NameMapping } from '../run-record';
import {
  batchGetItems,
  batchWriteItems,
  keysWithPrefix,
  prefixQuery,
  putIfAbsent,
  queryItems,
  type ResolvedOptions,
} from './operations';
import { keys, RUN_ITEM_PREFIX, runPartition } from './table';

/**
 * The many small items of a run, one item each, in the run's partition: name mappings,
 * per-file failures and export task outcomes.
 */
export class DynamoRunItems {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ResolvedOptions,
  ) {}

  /** Idempotent overwrites (BatchWriteItem); a name given twice keeps its last key. */
  async appendNames(runId: string, entries: NameMapping[]): Promise<void> {
    const puts = entries.map((e) => {
      const { name, key } = NameMapping.parse(e);
      return { put: { ...keys.name(runId, name), name, key } };
    });
    await batchWriteItems(this.doc, this.tableName, puts, this.options);
  }

  async *names(runId: string): AsyncGenerator<NameMapping> {
    for await (const item of this.query(runId, RUN_ITEM_PREFIX.name)) yield NameMapping.parse(item);
  }

  async resolveNames(runId: string, names: Iterable<string>): Promise<Map<string, string>> {
    const wanted = [...new Set(names)];
    const found = new Map<string, string>();
    const items = await batchGetItems(this.doc, this.tableName, wanted.map((n) => keys.name(runId, n)), this.options);
    for (const item of items) {
      const entry = NameMapping.parse(item);
      found.set(entry.name, entry.key);
    }
    return found;
  }

  /**
   * One conditional put per (stage, name): the first failure recorded for a file stays, repeats
   * (in the same call, a later call or a concurrent one) change nothing.
   */
  async recordFailures(runId: string, failures: FileFailure[]): Promise<void> {
    const first = new Map<string, FileFailure>();
    for (const f of failures) {
      const failure = FileFailure.parse(f);
      const id = `${failure.stage}\n${failure.name}`;
      if (!first.has(id)) first.set(id, failure);
    }
    await mapLimit([...first.values()], this.options.concurrency, async (failure) => {
      await putIfAbsent(this.doc, this.tableName, { ...failure, ...keys.failure(runId, failure.stage, failure.name) });
    });
  }

  async *failures(runId: string): AsyncGenerator<FileFailure> {
    for await (const item of this.query(runId, RUN_ITEM_PREFIX.failure)) yield FileFailure.parse(item);
  }

  /**
   * A conditional put of the task's item (attribute_not_exists), so a repeated task id changes
   * nothing. Whether the export is complete is then told by DynamoExportCompletion, which reads a
   * bounded number of items (never every outcome recorded so far).
   */
  async recordExportTask(runId: string, result: ExportTaskResult): Promise<void> {
    const task = ExportTaskResult.parse(result);
    await putIfAbsent(this.doc, this.tableName, { ...task, ...keys.task(runId, task.taskId) });
  }

  async *exportTaskResults(runId: string): AsyncGenerator<ExportTaskResult> {
    for await (const item of this.query(runId, RUN_ITEM_PREFIX.task)) yield ExportTaskResult.parse(item);
  }

  /** Deletes the failures of one stage recorded for these names (idempotent). */
  async forgetFailures(runId: string, stage: FileFailure['stage'], names: Iterable<string>): Promise<void> {
    const doomed = [...new Set(names)].map((name) => ({ delete: keys.failure(runId, stage, name) }));
    await batchWriteItems(this.doc, this.tableName, doomed, this.options);
  }

  /** Deletes every task outcome, export-stage failure and completion mark of the run (idempotent). */
  async resetExport(runId: string): Promise<void> {
    const pk = runPartition(runId);
    const doomed = [
      ...(await keysWithPrefix(this.doc, this.tableName, pk, RUN_ITEM_PREFIX.task, this.options.pageSize)),
      ...(await keysWithPrefix(this.doc, this.tableName, pk, RUN_ITEM_PREFIX.exportFailure, this.options.pageSize)),
      ...(await keysWithPrefix(this.doc, this.tableName, pk, RUN_ITEM_PREFIX.exportMark, this.options.pageSize)),
      keys.exportDone(runId),
    ];
    await batchWriteItems(this.doc, this.tableName, doomed.map((key) => ({ delete: key })), this.options);
  }

  private query(runId: string, prefix: string) {
    return queryItems(this.doc, prefixQuery(this.tableName, runPartition(runId), prefix, this.options.pageSize));
  }
}
