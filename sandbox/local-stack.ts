import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createS3Client } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import { startRoboflowEmulator, type EmulatorOptions, type RunningEmulator } from './roboflow-emulator';
import { localS3Env, startLocalS3, type LocalS3Server } from './s3-server';

export const SANDBOX_WORKSPACE = 'demo-workspace';
export const SANDBOX_WORKFLOW = 'detect-everything';

export interface LocalStack {
  s3: LocalS3Server;
  roboflow: RunningEmulator;
  apiKey: string;
  /** Environment for the CLI: API key and URL, local S3 endpoint and credentials. */
  env: NodeJS.ProcessEnv;
  store(bucket: string): S3Store;
  close(): Promise<void>;
}

/** Local S3 server + Roboflow emulator on loopback, with throwaway credentials. */
export async function startLocalStack(options: { buckets: string[]; emulator?: Partial<EmulatorOptions> }): Promise<LocalStack> {
  const apiKey = `local-${randomBytes(12).toString('hex')}`;
  const s3 = await startLocalS3({ buckets: options.buckets });
  let roboflow: RunningEmulator;
  try {
    roboflow = await startRoboflowEmulator({ apiKey, workspace: SANDBOX_WORKSPACE, ...options.emulator });
  } catch (err) {
    await s3.close();
    throw err;
  }
  const client = createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
  return {
    s3,
    roboflow,
    apiKey,
    env: { ...localS3Env(s3), ROBOFLOW_API_KEY: apiKey, ROBOFLOW_API_URL: roboflow.url },
    store: (bucket) => new S3Store(client, bucket),
    close: async () => {
      await roboflow.close();
      await s3.close();
      client.destroy();
    },
  };
}

/** A loopback port that was free a moment ago (for a webhook receiver with a known URL). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
