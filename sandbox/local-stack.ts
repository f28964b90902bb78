import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGcsClient, createGcsSigner } from '../shared/storage/gcs-client';
import type { GcsSettings } from '../shared/storage/gcs-options';
import { GcsStore } from '../shared/storage/gcs-store';
import { createS3Client } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import { generateServiceAccount, type LocalServiceAccount } from './gcs-keys';
import { startFakeGcs, type FakeGcsServer } from './gcs-server';
import { startFakeIamCredentials, type FakeIamCredentials } from './iam-credentials-server';
import { startRoboflowEmulator, type EmulatorOptions, type RunningEmulator } from './roboflow-emulator';
import { localS3Env, startLocalS3, type LocalS3Server } from './s3-server';

export interface LocalGcs {
  server: FakeGcsServer;
  /** The IAM Credentials fake for keyless (signBlob) signing as `account`. */
  iam: FakeIamCredentials;
  account: LocalServiceAccount;
  /** The account's key file (a temporary file). */
  keyFile: string;
  /** CLI environment for gs:// locations signed with the key file. */
  env: NodeJS.ProcessEnv;
  /** CLI environment for gs:// locations signed through signBlob (`--gcs-sign-as` given by env). */
  signBlobEnv: NodeJS.ProcessEnv;
  settings: GcsSettings;
  store(bucket: string): GcsStore;
}

/**
 * A fake GCS (JSON API + signed URL downloads verified against a fresh service account's key)
 * and a fake IAM Credentials API, with the key written to a temporary key file.
 */
export async function startLocalGcs(buckets: string[]): Promise<LocalGcs & { close(): Promise<void> }> {
  const server = await startFakeGcs({ buckets });
  const iam = await startFakeIamCredentials();
  const account = generateServiceAccount();
  server.trust(account.email, account.publicKey);
  iam.addServiceAccount(account.email, account.key.private_key);
  const dir = await mkdtemp(join(tmpdir(), 'bucket-bridge-gcs-'));
  const keyFile = join(dir, 'service-account.json');
  await writeFile(keyFile, JSON.stringify(account.key, null, 2), { mode: 0o600 });
  const settings: GcsSettings = { signing: { kind: 'key', key: account.key }, apiEndpoint: server.url, projectId: account.key.project_id };
  const client = createGcsClient(settings);
  const signer = createGcsSigner(settings, client);
  return {
    server,
    iam,
    account,
    keyFile,
    settings,
    env: { BUCKET_BRIDGE_GCS_ENDPOINT: server.url, BUCKET_BRIDGE_GCS_KEY_FILE: keyFile },
    signBlobEnv: {
      BUCKET_BRIDGE_GCS_ENDPOINT: server.url,
      BUCKET_BRIDGE_GCS_SIGN_AS: account.email,
      BUCKET_BRIDGE_GCS_IAM_URL: iam.url,
      BUCKET_BRIDGE_GCS_ACCESS_TOKEN: iam.token,
    },
    store: (bucket) => new GcsStore(client, bucket, { signer, signedUrlBase: server.url }),
    close: async () => {
      await iam.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const SANDBOX_WORKSPACE = 'demo-workspace';
export const SANDBOX_WORKFLOW = 'detect-everything';

export interface LocalStack {
  s3: LocalS3Server;
  roboflow: RunningEmulator;
  /** Present when the stack was started with `gcsBuckets`. */
  gcs?: LocalGcs;
  apiKey: string;
  /** Environment for the CLI: API key and URL, local S3 endpoint and credentials, the plain-http references opt-in. */
  env: NodeJS.ProcessEnv;
  store(bucket: string): S3Store;
  close(): Promise<void>;
}

/**
 * Local S3 server + Roboflow emulator on loopback, with throwaway credentials; with `gcsBuckets`,
 * also a fake GCS and IAM Credentials API (`stack.gcs`, whose `env` goes with `stack.env`).
 */
export async function startLocalStack(options: {
  buckets: string[];
  gcsBuckets?: string[];
  emulator?: Partial<EmulatorOptions>;
  /** Use the S3 server that verifies every SigV4 signature (bucket-level calls and signed URLs). */
  verifySignatures?: boolean;
}): Promise<LocalStack> {
  const apiKey = `local-${randomBytes(12).toString('hex')}`;
  const s3 = await startLocalS3({ buckets: options.buckets, verifySignatures: options.verifySignatures });
  let roboflow: RunningEmulator;
  let gcs: Awaited<ReturnType<typeof startLocalGcs>> | undefined;
  try {
    roboflow = await startRoboflowEmulator({ apiKey, workspace: SANDBOX_WORKSPACE, ...options.emulator });
    if (options.gcsBuckets) {
      try {
        gcs = await startLocalGcs(options.gcsBuckets);
      } catch (err) {
        await roboflow.close();
        throw err;
      }
    }
  } catch (err) {
    await s3.close();
    throw err;
  }
  const client = createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
  return {
    s3,
    roboflow,
    gcs,
    apiKey,
    // The local S3 server signs plain-http URLs, which only an opted-in run submits.
    env: { ...localS3Env(s3), ROBOFLOW_API_KEY: apiKey, ROBOFLOW_API_URL: roboflow.url, BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES: 'true' },
    store: (bucket) => new S3Store(client, bucket),
    close: async () => {
      await gcs?.close();
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
