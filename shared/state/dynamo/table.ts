import { createHash } from 'node:crypto';
import type { CreateTableCommandInput, DynamoDBClient, UpdateTimeToLiveCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunkId } from '../run-chunks';
import type { ChunkKey } from '../run-record';

/**
 * The state table: ONE table, partition key `pk` (S), sort key `sk` (S), TTL attribute `expiresAt`
 * (number, epoch seconds), on-demand billing. No indexes: every read is a GetItem, a BatchGetItem or
 * a Query of one partition (never a Scan).
 *
 * Key layout (`<x>` is the raw id; ids too long for a key are replaced by `~` + their SHA-256):
 *
 * | item                         | pk                          | sk                     |
 * |------------------------------|-----------------------------|------------------------|
 * | run record (JSON + version)  | `RUN#<runId>`               | `RUN`                  |
 * | chunk (JSON + version)       | `RUN#<runId>`               | `CHUNK#<ppp>-<iii>`    |
 * | name -> key mapping          | `RUN#<runId>`               | `NAME#<name>`          |
 * | per-file failure             | `RUN#<runId>`               | `FAIL#<stage>#<name>`  |
 * | export task outcome          | `RUN#<runId>`               | `TASK#<taskId>`        |
 * | export completion mark       | `RUN#<runId>`               | `XMARK#<p>#<l>#<n>#<c>`|
 * | export completion claim      | `RUN#<runId>`               | `XDONE`                |
 * | batch id -> run id           | `BATCH#<batchId>`           | `LOOKUP`               |
 * | job id -> run id             | `JOB#<jobId>`               | `LOOKUP`               |
 * | webhook event (TTL 30 days)  | `EVENT#<eventId>`           | `EVENT`                |
 * | ledger entry (ETag, run id)  | `LEDGER#<bucket>/<key>`     | `LEDGER`               |
 * | pending object version       | `PENDING#<sourceId>`        | `OBJ#["<key>","<ver>"]`|
 * | pending window (count, time) | `PENDING#<sourceId>`        | `WINDOW`               |
 *
 * An export completion mark is one node's child in the export's completion tree (pass `p`, level
 * `l`, node `n`, child `c`, numbers zero-padded; see export-completion.ts), so a Query of a node's
 * prefix counts its children only.
 * A webhook event item is first a claim with a lease (one handler at a time), then marked done.
 * A chunk's sort key holds its partition and index zero-padded (see chunkId: `CHUNK#000000-0000000007`),
 * so a Query of the prefix reads a run's chunks in (partition, index) order.
 */
export const STATE_TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** TTL attribute, epoch seconds; only event items carry it. */
  ttlAttribute: 'expiresAt',
} as const;

/** CreateTable input of the state table (the TTL is set separately: see `stateTableTimeToLive`). */
export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: STATE_TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: STATE_TABLE_KEYS.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: STATE_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: STATE_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** UpdateTimeToLive input enabling the TTL attribute (CreateTable cannot carry it). */
export function stateTableTimeToLive(tableName: string): UpdateTimeToLiveCommandInput {
  return { TableName: tableName, TimeToLiveSpecification: { AttributeName: STATE_TABLE_KEYS.ttlAttribute, Enabled: true } };
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export interface ItemKey {
  pk: string;
  sk: string;
}

const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;

/** `prefix + id`, or `prefix + '~' + sha256(id)` when that would exceed the key size limit. */
function bounded(prefix: string, id: string, maxBytes: number): string {
  const plain = `${prefix}${id}`;
  if (Buffer.byteLength(plain, 'utf8') <= maxBytes) return plain;
  return `${prefix}~${createHash('sha256').update(id).digest('hex')}`;
}

const pk = (prefix: string, id: string) => bounded(prefix, id, MAX_PARTITION_KEY_BYTES);
const sk = (prefix: string, id: string) => bounded(prefix, id, MAX_SORT_KEY_BYTES);

export const runPartition = (runId: string) => pk('RUN#', runId);

/** Sort-key prefixes of the items in a run's partition (Query with begins_with). */
export const RUN_ITEM_PREFIX = { name: 'NAME#', failure: 'FAIL#', exportFailure: 'FAIL#export#', task: 'TASK#', chunk: 'CHUNK#', exportMark: 'XMARK#' } as const;

const pad = (n: number) => String(n).padStart(10, '0');
/** Sort-key prefix of the marks under one node of an export's completion tree (see export-order). */
export const exportNodePrefix = (pass: number, level: number, node: number) => `${RUN_ITEM_PREFIX.exportMark}${pass}#${level}#${pad(node)}#`;

export const keys = {
  run: (runId: string): ItemKey => ({ pk: runPartition(runId), sk: 'RUN' }),
  chunk: (runId: string, key: ChunkKey): ItemKey => ({ pk: runPartition(runId), sk: `${RUN_ITEM_PREFIX.chunk}${chunkId(key)}` }),
  name: (runId: string, name: string): ItemKey => ({ pk: runPartition(runId), sk: sk(RUN_ITEM_PREFIX.name, name) }),
  failure: (runId: string, stage: string, name: string): ItemKey => ({
    pk: runPartition(runId),
    sk: sk(`${RUN_ITEM_PREFIX.failure}${stage}#`, name),
  }),
  task: (runId: string, taskId: string): ItemKey => ({ pk: runPartition(runId), sk: sk(RUN_ITEM_PREFIX.task, taskId) }),
  exportMark: (runId: string, pass: number, level: number, node: number, child: number): ItemKey => ({
    pk: runPartition(runId),
    sk: `${exportNodePrefix(pass, level, node)}${pad(child)}`,
  }),
  exportDone: (runId: string): ItemKey => ({ pk: runPartition(runId), sk: 'XDONE' }),
  batchLookup: (batchId: string): ItemKey => ({ pk: pk('BATCH#', batchId), sk: 'LOOKUP' }),
  jobLookup: (jobId: string): ItemKey => ({ pk: pk('JOB#', jobId), sk: 'LOOKUP' }),
  event: (eventId: string): ItemKey => ({ pk: pk('EVENT#', eventId), sk: 'EVENT' }),
  // Bucket names cannot contain '/', so "<bucket>/<key>" is unambiguous.
  ledger: (bucket: string, key: string): ItemKey => ({ pk: pk('LEDGER#', `${bucket}/${key}`), sk: 'LEDGER' }),
  pendingPartition: (sourceId: string) => pk('PENDING#', sourceId),
  pendingObject: (sourceId: string, key: string, version: string): ItemKey => ({
    pk: pk('PENDING#', sourceId),
    sk: sk(PENDING_OBJECT_PREFIX, JSON.stringify([key, version])),
  }),
  pendingWindow: (sourceId: string): ItemKey => ({ pk: pk('PENDING#', sourceId), sk: 'WINDOW' }),
};

export const PENDING_OBJECT_PREFIX = 'OBJ#';
