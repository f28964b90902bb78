/// <reference path="./dynalite.d.ts" />
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createDocumentClient, stateTableDefinition } from '../../shared/state/dynamo/table';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Creates a state table (without TTL: dynalite has no UpdateTimeToLive) and returns its name once the table is ACTIVE. */
  createStateTable(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * An in-memory DynamoDB (dynalite) on a free local port, with a client for it. `createTableMs`: how
 * long a new table stays CREATING (dynalite answers ResourceNotFoundException to item requests
 * meanwhile; even at 0 that lasts until its timer runs).
 */
export async function startDynalite({ createTableMs = 0 } = {}): Promise<TestDynamo> {
  const server: Server = dynalite({ createTableMs, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'dynalite', secretAccessKey: 'dynalite' },
  });
  return {
    endpoint,
    client,
    doc: createDocumentClient(client),
    async createStateTable(name) {
      await client.send(new CreateTableCommand(stateTableDefinition(name)));
      // Bounded: a few seconds at most, however slow the machine.
      for (let attempt = 0; attempt < 400; attempt++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return name;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`dynalite table ${name} is still not ACTIVE`);
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err?: Error) => (err ? reject(err) : resolve())));
    },
  };
}
