import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '../../sandbox/local-stack';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE } from '../../sandbox/local-stack';
import { parseBucketUrl } from '../../shared/location';
import { silentLogger } from '../../shared/log';
import { noProgress } from '../../shared/progress';
import type { BridgeDeps } from '../../shared/run/deps';
import { FileStateStore } from '../../shared/state/file-state';
import type { RunSpec } from '../../shared/state/run-record';
import { RoboflowClient } from '../../shared/targets/roboflow/client';
import { RoboflowTarget } from '../../shared/targets/roboflow/target';

export async function tempDir(prefix: string) {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Ports wired to the local stack, as the CLI would wire them, with fast retries. */
export async function stackDeps(stack: LocalStack, bucket: string, overrides: Partial<BridgeDeps> = {}, notificationsUrl?: string): Promise<BridgeDeps> {
  const client = new RoboflowClient({
    apiKey: stack.apiKey,
    workspace: SANDBOX_WORKSPACE,
    apiUrl: stack.roboflow.url,
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
  });
  return {
    source: stack.store(bucket),
    dest: stack.store(bucket),
    state: new FileStateStore(await tempDir('bb-state-')),
    // The local S3 server signs plain-http URLs (Roboflow itself would refuse them).
    target: new RoboflowTarget(client, notificationsUrl, { allowHttpReferences: true }),
    log: silentLogger,
    progress: noProgress,
    pageSize: 10,
    ...overrides,
  };
}

export function specFor(source: string, dest: string, overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    source: parseBucketUrl('--source', source),
    dest: parseBucketUrl('--dest', dest),
    media: 'images',
    target: { name: 'roboflow', workspace: SANDBOX_WORKSPACE, workflowId: SANDBOX_WORKFLOW, job: {} },
    urlLifetimeSeconds: 3600,
    manifestPrefix: 'bucket-bridge/manifests/',
    keepArchives: false,
    ...overrides,
  };
}
