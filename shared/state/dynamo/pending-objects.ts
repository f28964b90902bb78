import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { mapLimit } from '../../concurrency';
import type { StoredObject } from '../../storage/port';
import type { PendingObjects, PendingState } from '../debounce';
import { ledgerVersion } from '../ledger';
import { countItems, isConditionalCheckFailed, prefixQuery, putIfAbsent, resolveOptions, type DynamoStateOptions, type ResolvedOptions } from './operations';
import { keys, PENDING_OBJECT_PREFIX } from './table';

const PendingItem = z.object({
  key: z.string(),
  size: z.number().int().nonnegative(),
  etag: z.string().optional(),
  lastModified: z.iso.datetime().optional(),
});

const WindowItem = z.object({ pending: z.number().int(), lastEventAt: z.iso.datetime() });

/** Claim rounds before giving up on a partition that other claimers keep emptying first. */
const MAX_CLAIM_ROUNDS = 25;

/**
 * Debounced object-created events, per source: one item per object version (conditional put,
 * so a replayed event adds nothing) and one window item holding the pending count and the time
 * of the last event that added something. A claim deletes items conditionally (attribute_exists),
 * so each object goes to exactly one claimer.
 *
 * The count is advisory (it decides when a batch is big enough): it and the items are separate
 * writes, so a handler dying between them leaves the count off by that call's objects, never the
 * items themselves. Claims always work from the items.
 */
export class DynamoPendingObjects implements PendingObjects {
  private readonly options: ResolvedOptions;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoStateOptions = {},
  ) {
    this.options = resolveOptions(options);
  }

  async add(sourceId: string, objects: StoredObject[], now: Date): Promise<PendingState> {
    const unique = new Map<string, StoredObject>();
    for (const o of objects) {
      const id = JSON.stringify([o.key, ledgerVersion(o)]);
      if (!unique.has(id)) unique.set(id, o);
    }
    const created = await mapLimit([...unique.values()], this.options.concurrency, (o) => this.addVersion(sourceId, o, now));
    const added = created.filter(Boolean).length;
    if (added > 0) return this.bump(sourceId, added, now);

    const current = await this.state(sourceId);
    if (current || unique.size === 0) return current ?? { pending: 0, lastEventAt: now };
    // Nothing new and no window: an earlier attempt stored the objects but died before creating
    // the window. Create it from the items, so the batch is not stranded.
    return this.repairWindow(sourceId, now);
  }

  async state(sourceId: string): Promise<PendingState | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.pendingWindow(sourceId), ConsistentRead: true }));
    return res.Item ? toState(res.Item) : undefined;
  }

  async claim(sourceId: string, max: number): Promise<StoredObject[]> {
    const claimed: StoredObject[] = [];
    const query = prefixQuery(this.tableName, keys.pendingPartition(sourceId), PENDING_OBJECT_PREFIX, 1);
    for (let round = 0; round < MAX_CLAIM_ROUNDS && claimed.length < max; round++) {
      const want = max - claimed.length;
      const page = await this.doc.send(new QueryCommand({ ...query, Limit: want, ConsistentRead: true }));
      const items = page.Items ?? [];
      if (items.length === 0) break;
      const taken = await mapLimit(items, this.options.concurrency, (item) => this.take(String(item.pk), String(item.sk)));
      for (const object of taken) if (object) claimed.push(object);
      // The partition held fewer objects than wanted: nothing is left to race for.
      if (!page.LastEvaluatedKey && items.length < want) break;
    }
    if (claimed.length > 0) await this.decrement(sourceId, claimed.length);
    return claimed;
  }

  private addVersion(sourceId: string, object: StoredObject, now: Date): Promise<boolean> {
    const version = ledgerVersion(object);
    return putIfAbsent(this.doc, this.tableName, {
      ...keys.pendingObject(sourceId, object.key, version),
      key: object.key,
      size: object.size,
      etag: object.etag,
      lastModified: object.lastModified?.toISOString(),
      version,
      addedAt: now.toISOString(),
    });
  }

  /** Adds to the count; moves `lastEventAt` forward only (events may arrive out of order). */
  private async bump(sourceId: string, added: number, now: Date): Promise<PendingState> {
    const base = { TableName: this.tableName, Key: keys.pendingWindow(sourceId), ReturnValues: 'ALL_NEW' as const };
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          ...base,
          UpdateExpression: 'ADD #p :n SET #t = :now',
          ConditionExpression: 'attribute_not_exists(#t) OR #t < :now',
          ExpressionAttributeNames: { '#p': 'pending', '#t': 'lastEventAt' },
          ExpressionAttributeValues: { ':n': added, ':now': now.toISOString() },
        }),
      );
      return toState(res.Attributes);
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const res = await this.doc.send(
      new UpdateCommand({
        ...base,
        UpdateExpression: 'ADD #p :n',
        ExpressionAttributeNames: { '#p': 'pending' },
        ExpressionAttributeValues: { ':n': added },
      }),
    );
    return toState(res.Attributes);
  }

  private async repairWindow(sourceId: string, now: Date): Promise<PendingState> {
    const count = await countItems(this.doc, this.tableName, keys.pendingPartition(sourceId), PENDING_OBJECT_PREFIX);
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.pendingWindow(sourceId),
        UpdateExpression: 'SET #p = if_not_exists(#p, :count), #t = if_not_exists(#t, :now)',
        ExpressionAttributeNames: { '#p': 'pending', '#t': 'lastEventAt' },
        ExpressionAttributeValues: { ':count': count, ':now': now.toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toState(res.Attributes);
  }

  /** Deletes one pending item if it is still there; the object when this call removed it. */
  private async take(pk: string, sk: string): Promise<StoredObject | undefined> {
    try {
      const res = await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk, sk },
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const item = PendingItem.parse(res.Attributes);
      return {
        key: item.key,
        size: item.size,
        ...(item.etag !== undefined && { etag: item.etag }),
        ...(item.lastModified !== undefined && { lastModified: new Date(item.lastModified) }),
      };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  }

  private async decrement(sourceId: string, count: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.pendingWindow(sourceId),
          UpdateExpression: 'ADD #p :n',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#p': 'pending', '#pk': 'pk' },
          ExpressionAttributeValues: { ':n': -count },
        }),
      );
    } catch (err) {
      // No window item (see `add`): there is no count to correct.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}

function toState(item: Record<string, unknown> | undefined): PendingState {
  const window = WindowItem.parse(item);
  return { pending: Math.max(0, window.pending), lastEventAt: new Date(window.lastEventAt) };
}
