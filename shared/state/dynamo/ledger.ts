import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { StoredObject } from '../../storage/port';
import { ledgerVersion, type ObjectLedger } from '../ledger';
import { batchGetItems, batchWriteItems, resolveOptions, type DynamoStateOptions, type ResolvedOptions } from './operations';
import { keys } from './table';

const LedgerItem = z.object({ bucket: z.string(), key: z.string(), version: z.string(), runId: z.string() });

/**
 * Which object versions were submitted: one item per (bucket, key) holding the last submitted
 * version (ETag, or size@mtime) and the run. Recording is an idempotent overwrite, batched (25
 * items per BatchWriteItem, a few requests in flight: see batchWriteItems); items DynamoDB still
 * leaves unprocessed after the last attempt are thrown, named, in an UnwrittenItemsError.
 */
export class DynamoObjectLedger implements ObjectLedger {
  private readonly options: ResolvedOptions;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoStateOptions = {},
  ) {
    this.options = resolveOptions(options);
  }

  async submitted(bucket: string, objects: StoredObject[]): Promise<ReadonlySet<string>> {
    const wanted = new Map(objects.map((o) => [o.key, ledgerVersion(o)]));
    const items = await batchGetItems(this.doc, this.tableName, [...wanted.keys()].map((k) => keys.ledger(bucket, k)), this.options);
    const seen = new Set<string>();
    for (const raw of items) {
      const item = LedgerItem.parse(raw);
      if (item.bucket === bucket && wanted.get(item.key) === item.version) seen.add(item.key);
    }
    return seen;
  }

  async record(bucket: string, objects: StoredObject[], runId: string): Promise<void> {
    const recordedAt = new Date().toISOString();
    await batchWriteItems(
      this.doc,
      this.tableName,
      objects.map((o) => ({ put: { ...keys.ledger(bucket, o.key), bucket, key: o.key, version: ledgerVersion(o), runId, recordedAt } })),
      this.options,
    );
  }
}
