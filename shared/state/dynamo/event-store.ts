import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { putIfAbsent, type ResolvedOptions } from './operations';
import { keys, STATE_TABLE_KEYS } from './table';

const EventItem = z.object({ eventId: z.string(), recordedAt: z.string() });

/** Webhook event ids: a conditional put per id, expiring through the table's TTL. */
export class DynamoEventLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ResolvedOptions,
  ) {}

  async has(eventId: string): Promise<boolean> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.event(eventId), ConsistentRead: true }));
    if (!res.Item) return false;
    EventItem.parse(res.Item);
    return true;
  }

  /** True only for the call whose put created the item. */
  async record(eventId: string): Promise<boolean> {
    const now = new Date();
    return putIfAbsent(this.doc, this.tableName, {
      ...keys.event(eventId),
      eventId,
      recordedAt: now.toISOString(),
      [STATE_TABLE_KEYS.ttlAttribute]: Math.floor(now.getTime() / 1000) + this.options.eventTtlSeconds,
    });
  }
}
