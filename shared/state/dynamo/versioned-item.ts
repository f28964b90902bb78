import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { backoff, isConditionalCheckFailed, type ResolvedOptions } from './operations';
import type { ItemKey } from './table';

/** A stored record: its JSON text and an optimistic-concurrency version. */
const VersionedItem = z.object({ record: z.string(), version: z.number().int().positive() });

export interface Versioned {
  /** The record as stored, JSON-parsed (the caller parses it with its schema). */
  raw: unknown;
  version: number;
}

/**
 * Records kept as one item each (`record`: JSON, `version`), changed by optimistic
 * read-modify-write: a put conditional on the version read (or on the item's absence), retried
 * with jittered backoff when another writer got there first.
 */
export class VersionedItems {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ResolvedOptions,
  ) {}

  async read(key: ItemKey): Promise<Versioned | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (!res.Item) return undefined;
    const item = VersionedItem.parse(res.Item);
    return { raw: JSON.parse(item.record), version: item.version };
  }

  /**
   * Stores `record` (with `attributes` beside it) as the version after `read`, or as a new item
   * when `read` is undefined. False when another writer changed (or created) the item first.
   */
  async write(key: ItemKey, read: Versioned | undefined, record: unknown, attributes: Record<string, unknown> = {}): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...attributes, record: JSON.stringify(record), version: (read?.version ?? 0) + 1 },
          ...(read
            ? { ConditionExpression: '#v = :read', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':read': read.version } }
            : { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Read-modify-write until a write wins: `change` gets the stored record (undefined when there is
   * none) and returns the next one, or `unchanged` to write nothing. Returns what is stored after.
   */
  async update<T>(
    key: ItemKey,
    parse: (raw: unknown) => T,
    change: (current: T | undefined) => { next: T; attributes?: Record<string, unknown> } | 'unchanged',
    what: string,
  ): Promise<T | undefined> {
    for (let attempt = 0; attempt < this.options.maxUpdateAttempts; attempt++) {
      if (attempt > 0) await backoff(attempt, this.options.retryBaseMs);
      const read = await this.read(key);
      const current = read ? parse(read.raw) : undefined;
      const outcome = change(current);
      if (outcome === 'unchanged') return current;
      if (await this.write(key, read, outcome.next, outcome.attributes)) return outcome.next;
    }
    throw new Error(`${what}: update lost the race ${this.options.maxUpdateAttempts} times in a row`);
  }
}
