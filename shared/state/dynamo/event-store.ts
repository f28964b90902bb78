import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { EventClaim } from '../port';
import { isConditionalCheckFailed, putIfAbsent, type ResolvedOptions } from './operations';
import { keys, STATE_TABLE_KEYS } from './table';

/** Items written before claims existed have no `state`: they were recorded once handled. */
const EventItem = z.object({
  eventId: z.string(),
  recordedAt: z.string(),
  state: z.enum(['claimed', 'done']).default('done'),
  owner: z.string().optional(),
  leaseUntil: z.number().optional(),
});

/**
 * Webhook event ids, one item each, expiring through the table's TTL: claimed with a lease by the
 * handler of one copy (a conditional put, so concurrent copies are handled once), then marked done,
 * or deleted again when handling failed so that the sender's retry is handled.
 */
export class DynamoEventLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ResolvedOptions,
  ) {}

  async has(eventId: string): Promise<boolean> {
    return (await this.read(eventId))?.state === 'done';
  }

  /** True only for the call whose put created the item. */
  async record(eventId: string): Promise<boolean> {
    return putIfAbsent(this.doc, this.tableName, this.item(eventId, { state: 'done' }));
  }

  /** A put that succeeds when the id is new or its claim has lapsed; otherwise the item says why not. */
  async claim(eventId: string, claim: EventClaim): Promise<'claimed' | 'in-flight' | 'done'> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(eventId, { state: 'claimed', ...claim }),
          ConditionExpression: 'attribute_not_exists(#pk) OR (#state = :claimed AND #lease < :now)',
          ExpressionAttributeNames: { '#pk': 'pk', '#state': 'state', '#lease': 'leaseUntil' },
          ExpressionAttributeValues: { ':claimed': 'claimed', ':now': Date.now() },
        }),
      );
      return 'claimed';
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const current = await this.read(eventId);
    // Released between the put and the read: the sender's next copy will find it free.
    if (!current) return 'in-flight';
    return current.state === 'done' ? 'done' : 'in-flight';
  }

  async complete(eventId: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: this.item(eventId, { state: 'done' }) }));
  }

  async release(eventId: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.event(eventId),
          ConditionExpression: '#state = :claimed AND #owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: { ':claimed': 'claimed', ':owner': owner },
        }),
      );
    } catch (err) {
      // Taken over after the lease, or handled by another copy: not ours to drop.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  private async read(eventId: string) {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.event(eventId), ConsistentRead: true }));
    return res.Item ? EventItem.parse(res.Item) : undefined;
  }

  private item(eventId: string, fields: { state: 'claimed' | 'done'; owner?: string; leaseUntil?: number }) {
    const now = new Date();
    return {
      ...keys.event(eventId),
      eventId,
      recordedAt: now.toISOString(),
      ...fields,
      [STATE_TABLE_KEYS.ttlAttribute]: Math.floor(now.getTime() / 1000) + this.options.eventTtlSeconds,
    };
  }
}
