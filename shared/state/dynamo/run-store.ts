import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { inlineChunks, RunRecord } from '../run-record';
import type { DynamoChunkItems } from './chunk-items';
import { backoff, isConditionalCheckFailed, type ResolvedOptions } from './operations';
import { keys } from './table';
import { RunExistsError } from '../port';
import { VersionedItems, type Versioned } from './versioned-item';

const LookupItem = z.object({ runId: z.string(), linked: z.boolean().optional() });

/**
 * Run records (the record as a JSON string plus an optimistic-concurrency version). `create` is a
 * conditional put (attribute_not_exists); `update` is an optimistic read-modify-write guarded by
 * `version`, retried with jittered backoff on a lost race. A record an earlier version wrote with
 * its chunks inline has them moved to chunk items when it is read.
 */
export class DynamoRunRecords {
  private readonly items: VersionedItems;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ResolvedOptions,
    private readonly chunks: DynamoChunkItems,
  ) {
    this.items = new VersionedItems(doc, tableName, options);
  }

  async create(run: RunRecord): Promise<void> {
    const record = RunRecord.parse(run);
    // Lookups first, each claimed for this run id (a repeat for the same run is a no-op, an id
    // already owned by another run is refused). `find*` checks that the run they name exists and
    // matches, so a crash before the run is written leaves nothing visible, and writing the run
    // last means a retried create never leaves the run without its lookups.
    await this.claimLookup(keys.batchLookup(record.batchId), record.runId, `batch id ${record.batchId}`);
    await this.claimLookup(keys.jobLookup(record.jobId), record.runId, `job id ${record.jobId}`);
    if (!(await this.items.write(keys.run(record.runId), undefined, record, this.attributes(record)))) throw new RunExistsError(record.runId);
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    return (await this.read(runId))?.run;
  }

  async update(runId: string, change: (run: RunRecord) => RunRecord): Promise<RunRecord> {
    for (let attempt = 0; attempt < this.options.maxUpdateAttempts; attempt++) {
      if (attempt > 0) await backoff(attempt, this.options.retryBaseMs);
      const current = await this.read(runId);
      if (!current) throw new Error(`run ${runId} not found`);
      const next = RunRecord.parse({ ...change(structuredClone(current.run)), updatedAt: new Date().toISOString() });
      if (next.runId !== runId) throw new Error(`an update of run ${runId} must not change its id (got ${next.runId})`);
      if (await this.items.write(keys.run(runId), current.stored, next, this.attributes(next))) return next;
    }
    throw new Error(`run ${runId}: update lost the race ${this.options.maxUpdateAttempts} times in a row`);
  }

  findByBatchId(batchId: string): Promise<RunRecord | undefined> {
    return this.lookup(keys.batchLookup(batchId), (run) => run.batchId === batchId);
  }

  findByJobId(jobId: string): Promise<RunRecord | undefined> {
    return this.lookup(keys.jobLookup(jobId), (run) => run.jobId === jobId);
  }

  /** Routes another target-side id to a run; the lookup is trusted as written (it may precede the chunk record). */
  linkJob(jobId: string, runId: string): Promise<void> {
    return this.claimLookup(keys.jobLookup(jobId), runId, `job id ${jobId}`, { linked: true });
  }

  /** The record and the stored version it came from; inline chunks of an earlier version's record are moved out first. */
  private async read(runId: string): Promise<{ run: RunRecord; stored: Versioned } | undefined> {
    const key = keys.run(runId);
    for (let attempt = 0; attempt < this.options.maxUpdateAttempts; attempt++) {
      if (attempt > 0) await backoff(attempt, this.options.retryBaseMs);
      const stored = await this.items.read(key);
      if (!stored) return undefined;
      const run = RunRecord.parse(stored.raw);
      const legacy = inlineChunks(stored.raw);
      if (legacy.length === 0) return { run, stored };
      await this.chunks.adopt(runId, legacy);
      // The record without its chunks; another reader may have done it first (then read again).
      if (await this.items.write(key, stored, run, this.attributes(run))) return { run, stored: { raw: run, version: stored.version + 1 } };
    }
    throw new Error(`run ${runId}: moving its inline chunks out lost the race ${this.options.maxUpdateAttempts} times in a row`);
  }

  /** A few top-level copies of the record's fields, for reading the table in the console. */
  private attributes(run: RunRecord) {
    return { runId: run.runId, phase: run.phase, updatedAt: run.updatedAt };
  }

  private async claimLookup(key: { pk: string; sk: string }, runId: string, what: string, extra: { linked?: boolean } = {}) {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, runId, ...extra },
          ConditionExpression: 'attribute_not_exists(#pk) OR #run = :run',
          ExpressionAttributeNames: { '#pk': 'pk', '#run': 'runId' },
          ExpressionAttributeValues: { ':run': runId },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      const owner = res.Item ? LookupItem.parse(res.Item).runId : 'another run';
      throw new Error(`run ${runId}: ${what} already belongs to run ${owner}`);
    }
  }

  private async lookup(key: { pk: string; sk: string }, matches: (run: RunRecord) => boolean) {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (!res.Item) return undefined;
    const item = LookupItem.parse(res.Item);
    const run = await this.get(item.runId);
    return run && (item.linked || matches(run)) ? run : undefined;
  }
}
