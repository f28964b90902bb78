import { createHmac, randomUUID } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { RunRecord } from '../../shared/state/run-record';
import { startServerlessHarness, WEBHOOK_TOKEN, type ServerlessHarness } from '../support/serverless';

/** A LlamaCloud webhook body: the event object, or (default output format) a JSON string of it. */
function eventOf(rawBody: string): { event_id: string; event_type: string; timestamp: number; data: { id: string } } {
  const json = JSON.parse(rawBody);
  return typeof json === 'string' ? JSON.parse(json) : json;
}

describe('deployed LlamaCloud webhooks that come late or again', () => {
  let h: ServerlessHarness;
  let signingSecret: string;
  const tick = new Date('2026-11-25T10:00:00Z');
  const runId = scheduledRunId('docs', tick);

  beforeAll(async () => {
    h = await startServerlessHarness({ target: 'llamacloud' });
    for (const key of ['incoming/a.pdf', 'incoming/b.txt']) await h.stack.store('media').write(key, `text of ${key}\n`);
    const secrets = new SecretsManagerClient({ endpoint: h.aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    signingSecret = (await secrets.send(new GetSecretValueCommand({ SecretId: h.env.TARGET_SIGNING_SECRET_ARN }))).SecretString!;
    secrets.destroy();
  });
  afterAll(() => h.close());

  const run = async (): Promise<RunRecord> => (await h.main.runtime.state.getRun(runId))!;
  const post = (event: object) => {
    const body = JSON.stringify(event);
    const signature = `sha256=${createHmac('sha256', signingSecret).update(body).digest('hex')}`;
    return fetch(`${h.webhookUrl}webhooks/${WEBHOOK_TOKEN}`, { method: 'POST', headers: { 'content-type': 'application/json', 'lc-signature': signature }, body }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as { outcome?: string; error?: string } }),
    );
  };

  it('leaves a completed run as it is when a failure event for its batch comes afterwards', async () => {
    await h.main.scheduledRun({ sourceId: 'docs', time: tick.toISOString() }, h.context());
    await h.pump(async () => ['completed', 'failed'].includes((await run()).phase));
    const before = await run();
    expect(before.phase, before.error).toBe('completed');
    await h.pump(async () => h.aws.pending().length === 0 && h.waiting.length === 0);
    const batchId = (await h.main.runtime.state.getChunk(runId, { index: 0 }))!.targetRef!;

    // A late failure event (new event id, sent now, correctly signed): acknowledged, nothing changes.
    const late = await post({ event_id: randomUUID(), event_type: 'batch.error', timestamp: Date.now() / 1000, data: { id: batchId, status: 'FAILED' } });
    expect(late).toEqual({ status: 200, body: { outcome: 'ignored' } });
    expect(await run()).toEqual(before);
    expect(h.aws.pending()).toEqual([]);
  });

  it('refuses a signed event replayed after the replay window, whatever its event id', async () => {
    const before = await run();
    const delivered = eventOf(h.llamacloud!.webhookDeliveries.find((d) => /^batch\./.test(eventOf(d.rawBody).event_type))!.rawBody);
    const replayed = await post({ ...delivered, event_id: randomUUID(), event_type: 'batch.error', timestamp: Date.now() / 1000 - 600 });
    expect(replayed.status).toBe(401);
    expect(replayed.body.error).toMatch(/stale/);
    expect(await run()).toEqual(before);
    expect(h.aws.pending()).toEqual([]);
  });
});
