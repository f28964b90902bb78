import { GetCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  EMPTY_PROGRESS,
  PartitionProgress,
  PartitionRecord,
  type PartitionClaim,
  type PartitionRef,
  type PartitionStore,
} from '../partition-store';
import {
  batchWriteItems,
  countItems,
  isConditionalCheckFailed,
  keysWithPrefix,
  prefixQuery,
  putIfAbsent,
  queryItems,
  type ResolvedOptions,
} from './operations';
import { runPartition, type ItemKey } from './table';

/** Sort-key prefixes: a plan's partition items, and the marker each done partition leaves for the count. */
const PARTITION_PREFIX = 'PART#';
const DONE_PREFIX = 'PARTDONE#';

const indexPart = (index: number) => String(index).padStart(6, '0');
const partitionKey = (ref: PartitionRef): ItemKey => ({ pk: runPartition(ref.runId), sk: `${PARTITION_PREFIX}${ref.plan}#${indexPart(ref.index)}` });
const doneKey = (ref: PartitionRef): ItemKey => ({ pk: runPartition(ref.runId), sk: `${DONE_PREFIX}${ref.plan}#${indexPart(ref.index)}` });

const StoredPartition = z.object({
  index: z.number().int().nonnegative(),
  descriptor: z.string(),
  status: z.enum(['pending', 'done']),
  progress: z.string(),
  leaseOwner: z.string().optional(),
  leaseUntil: z.number().optional(),
});

function fromItem(item: Record<string, unknown>): PartitionRecord {
  const stored = StoredPartition.parse(item);
  return PartitionRecord.parse({
    index: stored.index,
    descriptor: stored.descriptor,
    status: stored.status,
    progress: JSON.parse(stored.progress),
    lease: stored.leaseOwner !== undefined && stored.leaseUntil !== undefined ? { owner: stored.leaseOwner, until: stored.leaseUntil } : undefined,
  });
}

/**
 * Partition items in the run's partition (`PART#<plan>#<index>`), claimed, checkpointed and
 * completed with conditional UpdateItem calls. Completing sets the item done (conditioned on it
 * being pending) and then puts a small `PARTDONE#<plan>#<index>` marker (attribute_not_exists);
 * the done count is counted from the markers (a strongly consistent COUNT query), never kept in a
 * counter a retried write could bump twice. A completion cut off between the two writes is
 * finished by its retry, which finds the item done and puts the marker.
 */
export class DynamoPartitionItems implements PartitionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ResolvedOptions,
  ) {}

  async save(runId: string, plan: string, partitions: Array<{ index: number; descriptor: string }>): Promise<void> {
    const fresh = JSON.stringify(EMPTY_PROGRESS);
    const puts = partitions.map((p) => ({
      put: { ...partitionKey({ runId, plan, index: p.index }), index: p.index, descriptor: p.descriptor, status: 'pending', progress: fresh },
    }));
    await batchWriteItems(this.doc, this.tableName, puts, this.options);
  }

  async get(ref: PartitionRef): Promise<PartitionRecord | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: partitionKey(ref), ConsistentRead: true }));
    return res.Item ? fromItem(res.Item) : undefined;
  }

  async *list(runId: string, plan: string): AsyncGenerator<PartitionRecord> {
    const input = prefixQuery(this.tableName, runPartition(runId), `${PARTITION_PREFIX}${plan}#`, this.options.pageSize);
    for await (const item of queryItems(this.doc, input)) yield fromItem(item);
  }

  async claim(ref: PartitionRef, owner: string, until: number, now: number): Promise<PartitionClaim> {
    const claimed = await this.update(ref, {
      UpdateExpression: 'SET #owner = :owner, #until = :until',
      ConditionExpression: 'attribute_exists(#pk) AND #status = :pending AND (attribute_not_exists(#until) OR #until < :now OR #owner = :owner)',
      ExpressionAttributeNames: { '#pk': 'pk', '#status': 'status', '#owner': 'leaseOwner', '#until': 'leaseUntil' },
      ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now, ':pending': 'pending' },
    });
    if (claimed) return 'claimed';
    const current = await this.get(ref);
    if (!current) throw new Error(`run ${ref.runId}: partition ${ref.index} of plan ${ref.plan} not found`);
    return current.status === 'done' ? 'done' : 'busy';
  }

  checkpoint(ref: PartitionRef, owner: string, progress: PartitionProgress): Promise<boolean> {
    return this.update(ref, {
      UpdateExpression: 'SET #progress = :progress',
      ConditionExpression: '#owner = :owner AND #status = :pending',
      ExpressionAttributeNames: { '#progress': 'progress', '#owner': 'leaseOwner', '#status': 'status' },
      ExpressionAttributeValues: { ':progress': JSON.stringify(PartitionProgress.parse(progress)), ':owner': owner, ':pending': 'pending' },
    });
  }

  async release(ref: PartitionRef, owner: string): Promise<void> {
    await this.update(ref, {
      UpdateExpression: 'REMOVE #owner, #until',
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'leaseOwner', '#until': 'leaseUntil' },
      ExpressionAttributeValues: { ':owner': owner },
    });
  }

  async complete(ref: PartitionRef, progress: PartitionProgress): Promise<{ done: number }> {
    const completed = await this.update(ref, {
      UpdateExpression: 'SET #status = :done, #progress = :progress REMOVE #owner, #until',
      ConditionExpression: 'attribute_exists(#pk) AND #status = :pending',
      ExpressionAttributeNames: { '#pk': 'pk', '#status': 'status', '#progress': 'progress', '#owner': 'leaseOwner', '#until': 'leaseUntil' },
      ExpressionAttributeValues: { ':done': 'done', ':pending': 'pending', ':progress': JSON.stringify(PartitionProgress.parse(progress)) },
    });
    // Done already (a retry, or another worker), or missing: only the first completion counts.
    if (!completed && !(await this.get(ref))) throw new Error(`run ${ref.runId}: partition ${ref.index} of plan ${ref.plan} not found`);
    await putIfAbsent(this.doc, this.tableName, { ...doneKey(ref), index: ref.index });
    return { done: await countItems(this.doc, this.tableName, runPartition(ref.runId), `${DONE_PREFIX}${ref.plan}#`) };
  }

  /** A conditional UpdateItem of the partition's item: false when its condition did not hold (nothing changed). */
  private async update(ref: PartitionRef, input: Omit<UpdateCommandInput, 'TableName' | 'Key'>): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: partitionKey(ref), ...input }));
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async discard(runId: string, plan: string): Promise<void> {
    const pk = runPartition(runId);
    const doomed = [
      ...(await keysWithPrefix(this.doc, this.tableName, pk, `${PARTITION_PREFIX}${plan}#`, this.options.pageSize)),
      ...(await keysWithPrefix(this.doc, this.tableName, pk, `${DONE_PREFIX}${plan}#`, this.options.pageSize)),
    ];
    await batchWriteItems(this.doc, this.tableName, doomed.map((key) => ({ delete: key })), this.options);
  }
}
