/// <reference path="./dynalite.d.ts" />
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createDocumentClient, stateTableDefinition } from '../../shared/state/dynamo/table';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Creates a state table (without TTL: dynalite has no UpdateTimeToLive) and returns its name. */
  createStateTable(name: string): Promise<string>;
  close(): Promise<void>;
}

/** An in-memory DynamoDB (dynalite) on a free local port, with a client for it. */
export async function startDynalite(): Promise<TestDynamo> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
      return name;
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err?: Error) => (err ? reject(err) : resolve())));
    },
  };
}
