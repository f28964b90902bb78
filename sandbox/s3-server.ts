import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type S3rverType from 's3rver';
import { makePutsDurable, type S3rverFilesystemStore } from './s3rver-durable-puts';

const require = createRequire(import.meta.url);

export interface LocalS3Server {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

export interface LocalS3Options {
  buckets: string[];
  /**
   * Use the fork that verifies SigV4 signatures (tampered or foreign URLs get 403). Its only
   * quirk: it signs bucket-level paths without the trailing slash the SDK sends.
   */
  verifySignatures?: boolean;
}

/**
 * A real S3-compatible server process on loopback (s3rver), backed by a temporary folder.
 * Needs Node's --openssl-legacy-provider for paginated listings (s3rver's continuation tokens).
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'bucket-bridge-s3-'));
  const S3rver: typeof S3rverType = options.verifySignatures ? require('@20minutes/s3rver') : require('s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    // close() removes the folder; the fork's own reset calls the deprecated recursive fs.rmdir.
    resetOnClose: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  makePutsDurable((server as unknown as { store: S3rverFilesystemStore }).store);
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Environment for the CLI / SDK to talk to the local server. */
export function localS3Env(s3: LocalS3Server): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
