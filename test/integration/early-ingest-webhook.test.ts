import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { waitForWebhooks } from '../../shared/run/poll';
import { startRun } from '../../shared/run/start-run';
import { webhookPath } from '../../shared/webhook/receive';
import { startReceiver } from '../support/receiver';
import { ingestStatusBody, ROBOFLOW_NOTIFICATION_HEADERS } from '../support/roboflow-notifications';
import { specFor, stackDeps } from '../support/domain';

const IMAGES = ['a', 'b', 'c', 'd'];

/**
 * Between Roboflow and the receiver: passes job notifications on and drops every ingest one, like
 * a network that lost them after an early "ingest finished" notification got through.
 */
async function startJobOnlyRelay(receiverUrl: string): Promise<{ url: string; dropped: () => number; close(): Promise<void> }> {
  let dropped = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (JSON.parse(body).type !== 'roboflow-batch-job-notification-v1') {
      dropped++;
      res.writeHead(200).end('{}');
      return;
    }
    const forwarded = await fetch(`${receiverUrl}${req.url}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' }, body });
    res.writeHead(forwarded.status).end(await forwarded.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('CLI on webhooks: an early "ingest finished, success" and no ingest notification after it', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    // Roboflow takes a while before its shards even show: the early notification lands first.
    stack = await startLocalStack({ buckets: ['early'], emulator: { ingestDelayMs: 800, jobStageDelayMs: 20 } });
    for (const name of IMAGES) await stack.store('early').write(`incoming/${name}.jpg`, fakeImage(name));
  });
  afterAll(() => stack.close());

  it('fails no file: the wait confirms the ingest through the API, starts the job and completes the run', async () => {
    const secret = 'e'.repeat(43);
    const port = await freePort();
    const relay = await startJobOnlyRelay(`http://127.0.0.1:${port}`);
    const deps = await stackDeps(stack, 'early', {}, `${relay.url}${webhookPath(secret)}`);
    const server = await startReceiver(deps, secret, port);
    try {
      const run = await startRun(deps, specFor('s3://early/incoming/', 's3://early/out/'));
      const early = await fetch(`http://127.0.0.1:${port}${webhookPath(secret)}`, {
        method: 'POST',
        headers: ROBOFLOW_NOTIFICATION_HEADERS,
        body: ingestStatusBody(run, 'early-success'),
      });
      expect(await early.json()).toEqual({ outcome: 'recorded' });
      await server.idle();
      const failures = [];
      for await (const f of deps.state.failures(run.runId)) failures.push(f);
      expect(failures).toEqual([]);
      expect((await deps.state.getRun(run.runId))?.phase).toBe('ingesting');

      const done = await waitForWebhooks(deps, run.runId, { intervalMs: 50, timeoutMs: 15_000 });
      await server.idle();
      expect(done.phase, done.error).toBe('completed');
      expect(done.ingested).toBe(IMAGES.length);
      expect(relay.dropped()).toBeGreaterThan(0);
      for await (const f of deps.state.failures(run.runId)) failures.push(f);
      expect(failures).toEqual([]);
    } finally {
      await server.close();
      await relay.close();
    }
  });
});
