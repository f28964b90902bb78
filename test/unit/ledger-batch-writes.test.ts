import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, type BatchWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoObjectLedger } from '../../shared/state/dynamo/ledger';
import { UnwrittenItemsError } from '../../shared/state/dynamo/operations';
import { createDocumentClient } from '../../shared/state/dynamo/table';
import type { StoredObject } from '../../shared/storage/port';

const TABLE = 'bb-state';
const ddbMock = mockClient(DynamoDBDocumentClient);
const doc = () => createDocumentClient(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }));

beforeEach(() => ddbMock.reset());
afterEach(() => ddbMock.reset());

type WireItem = { PutRequest: { Item: Record<string, string> } };

/** The ledger items' object keys (`key` attribute) of one request. */
function keysOf(input: unknown): string[] {
  const items = (input as { RequestItems: Record<string, WireItem[]> }).RequestItems[TABLE] ?? [];
  return items.map((r) => r.PutRequest.Item.key!);
}

const objects = (n: number): StoredObject[] => Array.from({ length: n }, (_, i) => ({ key: `in/${String(i).padStart(4, '0')}.jpg`, size: 1, etag: `"e${i}"` }));

/** Answers BatchWriteItem after `delayMs`, leaving unprocessed the items `unprocessed` picks (by object key and attempt). */
function answer(options: { delayMs?: number; unprocessed?: (key: string, attempt: number) => boolean }) {
  const attempts = new Map<string, number>();
  const written = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  ddbMock.on(BatchWriteCommand).callsFake(async (input: BatchWriteCommandInput) => {
    requests++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
    inFlight--;
    const wire = (input.RequestItems![TABLE] ?? []) as unknown as WireItem[];
    expect(wire.length).toBeLessThanOrEqual(25);
    const left: WireItem[] = [];
    for (const request of wire) {
      const key = request.PutRequest.Item.key!;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      if (options.unprocessed?.(key, attempt)) left.push(request);
      else written.add(key);
    }
    return { UnprocessedItems: left.length > 0 ? { [TABLE]: left } : {} };
  });
  return { written, attempts, stats: () => ({ requests, maxInFlight }) };
}

describe('ledger writes in batches (BatchWriteItem)', () => {
  it('writes 25 items per request with several requests in flight, never more than batchConcurrency', async () => {
    const server = answer({ delayMs: 5 });
    const ledger = new DynamoObjectLedger(doc(), TABLE, { batchConcurrency: 4 });
    await ledger.record('media', objects(260), 'r1');
    expect(server.written.size).toBe(260);
    expect(server.stats()).toEqual({ requests: Math.ceil(260 / 25), maxInFlight: 4 });
    const sent = ddbMock.commandCalls(BatchWriteCommand).flatMap((call) => keysOf(call.args[0].input));
    expect(sent).toHaveLength(260);
  });

  it('retries the items DynamoDB returns as unprocessed until every one is written', async () => {
    // Every third item is throttled twice before it goes through.
    const server = answer({ unprocessed: (key, attempt) => Number(key.slice(3, 7)) % 3 === 0 && attempt <= 2 });
    const ledger = new DynamoObjectLedger(doc(), TABLE, { retryBaseMs: 1, maxBatchAttempts: 4 });
    await ledger.record('media', objects(100), 'r1');
    expect(server.written.size).toBe(100);
    expect(server.attempts.get('in/0000.jpg')).toBe(3);
    expect(server.attempts.get('in/0001.jpg')).toBe(1);
    // 4 first requests, then each one's throttled items twice more.
    expect(server.stats().requests).toBe(12);
  });

  it('gives up after maxBatchAttempts, naming the items left unwritten, and still writes the rest', async () => {
    const stuck = new Set(['in/0007.jpg', 'in/0042.jpg']);
    const server = answer({ unprocessed: (key) => stuck.has(key) });
    const ledger = new DynamoObjectLedger(doc(), TABLE, { retryBaseMs: 1, maxBatchAttempts: 3 });
    const failure = await ledger.record('media', objects(60), 'r1').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(UnwrittenItemsError);
    const error = failure as UnwrittenItemsError;
    expect(error.keys.map((k) => k.pk).sort()).toEqual(['LEDGER#media/in/0007.jpg', 'LEDGER#media/in/0042.jpg']);
    expect(error.message).toContain('2 item(s) left unwritten after 3 attempts');
    expect(error.message).toContain('LEDGER#media/in/0007.jpg');
    expect(error.message).toContain('LEDGER#media/in/0042.jpg');
    expect(server.attempts.get('in/0007.jpg')).toBe(3);
    expect(server.written.size).toBe(58);
  });
});
