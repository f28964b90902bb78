import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { localS3Env, startLocalS3, type LocalS3Options, type LocalS3Server } from '../../sandbox/s3-server';
import { createS3Client } from '../../shared/storage/s3-client';
import type { ObjectStore, StoredObject } from '../../shared/storage/port';
import { S3Store } from '../../shared/storage/s3-store';
import { startS3Proxy } from './s3-proxy';

export interface TestS3 {
  server: LocalS3Server;
  client: S3Client;
  env: NodeJS.ProcessEnv;
  store(bucket: string): S3Store;
}

export async function startTestS3(options: LocalS3Options): Promise<TestS3> {
  const server = await startLocalS3(options);
  const client = createS3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: server.credentials });
  return { server, client, env: localS3Env(server), store: (bucket) => new S3Store(client, bucket) };
}

export interface ProxiedS3 {
  /** The local server itself (and stores that bypass the proxy). */
  s3: TestS3;
  proxy: Awaited<ReturnType<typeof startS3Proxy>>;
  /** A store whose requests go through the proxy. */
  store(bucket: string): S3Store;
  close(): Promise<void>;
}

/** The local S3 server behind the test proxy (S3's encoded listings, scripted faults, recorded requests). */
export async function startProxiedS3(buckets: string[]): Promise<ProxiedS3> {
  const s3 = await startTestS3({ buckets });
  const proxy = await startS3Proxy(s3.server.endpoint);
  const client = createS3Client({ endpoint: proxy.url, region: 'us-east-1', forcePathStyle: true, credentials: s3.server.credentials });
  return {
    s3,
    proxy,
    store: (bucket) => new S3Store(client, bucket),
    close: async () => {
      client.destroy();
      await proxy.close();
      await s3.server.close();
    },
  };
}

export async function createBucket(client: S3Client, bucket: string) {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function collect<T>(iterable: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of iterable) all.push(...page);
  return all;
}

/** Every object under a prefix, across all listing pages. */
export async function listObjects(store: ObjectStore, prefix: string, pageSize?: number): Promise<StoredObject[]> {
  const all: StoredObject[] = [];
  for await (const page of store.list(prefix, { pageSize })) all.push(...page.objects);
  return all;
}
