import {
  BatchGetCommand,
  BatchWriteCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../../concurrency';
import { EXPORT_GROUP_SIZE } from '../export-order';
import type { ItemKey } from './table';

/** Tuning shared by the DynamoDB adapters; the defaults suit Lambda, tests shrink them. */
export interface DynamoStateOptions {
  /** Items per Query page (DynamoDB's own 1 MB page limit applies as well). */
  pageSize?: number;
  /** Attempts of an optimistic run update before it gives up. */
  maxUpdateAttempts?: number;
  /** Attempts of a batch request while DynamoDB returns unprocessed items or keys. */
  maxBatchAttempts?: number;
  /** Base of the jittered exponential backoff between attempts, in ms. */
  retryBaseMs?: number;
  /** Lifetime of webhook event ids, in seconds (default 30 days). */
  eventTtlSeconds?: number;
  /** Parallel single-item requests (conditional puts and deletes). */
  concurrency?: number;
  /** BatchWriteItem requests (25 items each) in flight at once. */
  batchConcurrency?: number;
  /** Children per node of an export's completion tree (default EXPORT_GROUP_SIZE). */
  exportGroupSize?: number;
}

export type ResolvedOptions = Required<DynamoStateOptions>;

export function resolveOptions(options: DynamoStateOptions = {}): ResolvedOptions {
  return {
    pageSize: options.pageSize ?? 500,
    maxUpdateAttempts: options.maxUpdateAttempts ?? 20,
    maxBatchAttempts: options.maxBatchAttempts ?? 8,
    retryBaseMs: options.retryBaseMs ?? 10,
    eventTtlSeconds: options.eventTtlSeconds ?? 30 * 24 * 3600,
    concurrency: options.concurrency ?? 16,
    batchConcurrency: options.batchConcurrency ?? 4,
    exportGroupSize: options.exportGroupSize ?? EXPORT_GROUP_SIZE,
  };
}

type Item = Record<string, unknown>;

const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** Full-jitter exponential backoff: a random delay in [0, min(1 s, base * 2^attempt)). */
export function backoff(attempt: number, baseMs: number): Promise<void> {
  const ceiling = Math.min(1000, baseMs * 2 ** Math.min(attempt, 10));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

export function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

const keyId = (key: ItemKey) => `${key.pk}\n${key.sk}`;

/** Pages through a Query (strongly consistent), yielding items in sort-key order. */
export async function* queryItems(doc: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<Item> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ConsistentRead: true, ...input, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) yield item;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Query input for the items of one partition whose sort key starts with `prefix`. */
export function prefixQuery(tableName: string, pk: string, prefix: string, pageSize: number): QueryCommandInput {
  return {
    TableName: tableName,
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
    ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
    ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
    Limit: pageSize,
  };
}

/** Number of items of one partition whose sort key starts with `prefix` (strongly consistent). */
export async function countItems(doc: DynamoDBDocumentClient, tableName: string, pk: string, prefix: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({ ...prefixQuery(tableName, pk, prefix, 10_000), Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/**
 * Reads items by key (BatchGetItem, 100 keys per request, strongly consistent), retrying
 * unprocessed keys with backoff; throws when they are still unprocessed after the last attempt.
 */
export async function batchGetItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  itemKeys: readonly ItemKey[],
  options: ResolvedOptions,
): Promise<Item[]> {
  const unique = [...new Map(itemKeys.map((k) => [keyId(k), { pk: k.pk, sk: k.sk }])).values()];
  const found: Item[] = [];
  for (const chunk of chunked(unique, BATCH_GET_LIMIT)) {
    let pending: Record<string, unknown>[] = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= options.maxBatchAttempts) throw new Error(`BatchGetItem on ${tableName}: ${pending.length} key(s) still unprocessed`);
      if (attempt > 0) await backoff(attempt, options.retryBaseMs);
      const res = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      found.push(...(res.Responses?.[tableName] ?? []));
      pending = res.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return found;
}

export type WriteRequest = { put: Item & ItemKey } | { delete: ItemKey };

type WireRequest = { PutRequest: { Item: Item & ItemKey } } | { DeleteRequest: { Key: ItemKey } };

/** Keys named in an UnwrittenItemsError's message; the error holds them all. */
const KEYS_NAMED = 5;

/** Items DynamoDB still returned as unprocessed after the last attempt: nothing else is known unwritten. */
export class UnwrittenItemsError extends Error {
  constructor(
    readonly tableName: string,
    readonly keys: ItemKey[],
    attempts: number,
  ) {
    const named = keys.slice(0, KEYS_NAMED).map((k) => `${k.pk} ${k.sk}`).join(', ');
    const more = keys.length > KEYS_NAMED ? ` and ${keys.length - KEYS_NAMED} more` : '';
    super(`BatchWriteItem on ${tableName}: ${keys.length} item(s) left unwritten after ${attempts} attempts (throttled): ${named}${more}`);
    this.name = 'UnwrittenItemsError';
  }
}

/**
 * Writes items (BatchWriteItem, 25 per request, `batchConcurrency` requests in flight), retrying
 * each request's unprocessed items with jittered backoff up to `maxBatchAttempts` times. Requests
 * for the same key are collapsed (the last wins), as DynamoDB rejects duplicates in one batch.
 * Every request runs to its end; items still unprocessed then are thrown in one
 * UnwrittenItemsError naming them (everything else was written).
 */
export async function batchWriteItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  options: ResolvedOptions,
): Promise<void> {
  const byKey = new Map<string, WriteRequest>();
  for (const r of requests) {
    const id = keyId('put' in r ? r.put : r.delete);
    byKey.delete(id);
    byKey.set(id, r);
  }
  const wire: WireRequest[] = [...byKey.values()].map((r) =>
    'put' in r ? { PutRequest: { Item: r.put } } : { DeleteRequest: { Key: { pk: r.delete.pk, sk: r.delete.sk } } },
  );
  const left = await mapLimit(chunked(wire, BATCH_WRITE_LIMIT), options.batchConcurrency, async (chunk) => {
    let pending = chunk;
    for (let attempt = 0; attempt < options.maxBatchAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt, options.retryBaseMs);
      const res = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (res.UnprocessedItems?.[tableName] ?? []) as WireRequest[];
    }
    return pending;
  });
  const unwritten = left.flat().map((r) => ('PutRequest' in r ? r.PutRequest.Item : r.DeleteRequest.Key));
  if (unwritten.length > 0) throw new UnwrittenItemsError(tableName, unwritten.map((k) => ({ pk: String(k.pk), sk: String(k.sk) })), options.maxBatchAttempts);
}

/** Keys (pk, sk) of the items of one partition whose sort key starts with `prefix`. */
export async function keysWithPrefix(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  prefix: string,
  pageSize: number,
): Promise<ItemKey[]> {
  const found: ItemKey[] = [];
  const input = { ...prefixQuery(tableName, pk, prefix, pageSize), ProjectionExpression: '#pk, #sk' };
  for await (const item of queryItems(doc, input)) found.push({ pk: String(item.pk), sk: String(item.sk) });
  return found;
}

/** A put that never overwrites: true when this call created the item, false when it was there. */
export async function putIfAbsent(doc: DynamoDBDocumentClient, tableName: string, item: Record<string, unknown> & { pk: string; sk: string }): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}
