import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import type { FollowUp } from '../../shared/pipeline/chain';
import type { BridgeDeps } from '../../shared/run/deps';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { RunRecord } from '../../shared/state/run-record';
import { startWebhookServer, type RunningWebhookServer } from '../../shared/webhook/http-server';
import { webhookPath } from '../../shared/webhook/receive';
import { specFor, stackDeps, tempDir } from '../support/domain';
import { putChunk } from '../../shared/state/run-chunks';

const SECRET = 'k'.repeat(43);
const AUTH = { authorization: 'Bearer rf_abc123' };

describe('webhook receiver over HTTP', () => {
  let stack: LocalStack;
  let deps: BridgeDeps;
  let stateDir: string;
  let server: RunningWebhookServer;
  const followUps: FollowUp[] = [];
  const run: RunRecord = {
    ...newRunRecord('r1', specFor('s3://hooks/in/', 's3://hooks/out/')),
    phase: 'ingesting',
    listed: 2,
    submitted: 2,
    checkpoint: { nextChunk: 1 },
    submissionComplete: true,
  };

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['hooks'] });
    stateDir = await tempDir('bb-hooks-');
    deps = await stackDeps(stack, 'hooks', { state: new FileStateStore(stateDir) });
    await deps.state.createRun(run);
    await putChunk(deps.state, 'r1', { index: 0, ingestId: 'bb-r1-0', manifestKey: 'm/0.jsonl', references: 2, status: 'submitted' });
    await deps.state.appendNames('r1', [
      { name: 'in__a.jpg', key: 'in/a.jpg' },
      { name: 'in__b.jpg', key: 'in/b.jpg' },
    ]);
    server = await startWebhookServer(deps, { secret: SECRET, host: '127.0.0.1', port: 0, onFollowUp: async (f) => followUps.push(f) });
  });
  afterAll(async () => {
    await server.close();
    await stack.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = AUTH) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  const filesStatus = (eventId: string, attempt = 1) => ({
    type: 'roboflow-data-staging-notification-v1',
    event_id: eventId,
    ingest_id: 'bb-r1-0',
    batch_id: run.batchId,
    shard_id: 'shard-1',
    notification: {
      type: 'ingest-files-status-notification-v1',
      success: true,
      ingested_files: ['in__a.jpg'],
      failed_files: [{ type: 'file-download-failed', file_name: 'in__b.jpg', reason: 'HTTP 404' }],
      content_truncated: false,
    },
    delivery_attempt: attempt,
    unknown_future_field: true,
  });

  async function snapshot() {
    const events = await readdir(join(stateDir, 'events')).catch(() => []);
    const failures = [];
    for await (const f of deps.state.failures('r1')) failures.push(f);
    const { updatedAt: _u, ...record } = (await deps.state.getRun('r1'))!;
    return { events, failures, record, followUps: followUps.length };
  }

  it('answers 401 to a wrong secret and changes nothing', async () => {
    const before = await snapshot();
    const res = await post(webhookPath('x'.repeat(43)), filesStatus('evt-wrong-secret'));
    expect(res.status).toBe(401);
    expect((await post('/webhooks/', filesStatus('evt-no-secret'))).status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it('answers 401 without the Roboflow Authorization header and changes nothing', async () => {
    const before = await snapshot();
    expect((await post(webhookPath(SECRET), filesStatus('evt-no-auth'), {})).status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['not JSON', '{"type": '],
    ['wrong type', { ...filesStatus('evt-bad-type'), type: 'something-else' }],
    ['missing event id', { ...filesStatus('x'), event_id: undefined }],
    ['bad failed_files', { ...filesStatus('evt-bad-files'), notification: { type: 'ingest-files-status-notification-v1', success: true, failed_files: [{}] } }],
  ])('answers 400 to a malformed body (%s) and changes nothing', async (_label, body) => {
    const before = await snapshot();
    const res = await post(webhookPath(SECRET), body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/JSON|invalid notification/);
    expect(await snapshot()).toEqual(before);
  });

  it('records a notification once, with keys for the failed files, and ignores its duplicate', async () => {
    const first = await post(webhookPath(SECRET), filesStatus('evt-1'));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ outcome: 'recorded' });
    await server.idle();
    const after = await snapshot();
    expect(after.failures).toEqual([{ name: 'in__b.jpg', key: 'in/b.jpg', stage: 'ingest', type: 'file-download-failed', reason: 'HTTP 404' }]);
    expect(after.followUps).toBe(1);

    const again = await post(webhookPath(SECRET), filesStatus('evt-1', 2));
    expect(await again.json()).toEqual({ outcome: 'duplicate' });
    await server.idle();
    expect(await snapshot()).toEqual(after);
  });

  it('rejects other methods and paths', async () => {
    expect((await fetch(`${server.url}${webhookPath(SECRET)}`)).status).toBe(405);
    expect((await fetch(`${server.url}/elsewhere`, { method: 'POST' })).status).toBe(404);
  });
});
