import { mkdtemp } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { DEFAULT_WEBHOOK_LIMITS } from '../../shared/webhook/http-server';
import { spawnCli } from '../support/cli-process';
import { firstResponse, openSocket, requestHead } from '../support/raw-http';

const BUCKET = 'attacked-media';
const FAULT_PRELOAD = fileURLToPath(new URL('../support/process-fault.mjs', import.meta.url));

describe('bucket-bridge run (its own process) while its webhook receiver is attacked', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;
  const held: Socket[] = [];

  beforeAll(async () => {
    // Slow enough ingest and job stages that the attack lands while the run is still in progress.
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 400, jobStageDelayMs: 200 } });
    seeded = await seedDemoBucket(stack.store(BUCKET), 'incoming/', { withOversize: false });
  });
  afterEach(() => {
    for (const s of held.splice(0)) s.destroy();
  });
  afterAll(() => stack.close());

  async function startRun(dest: string, fault?: 'rejection' | 'exception') {
    const port = await freePort();
    const receiver = `http://127.0.0.1:${port}`;
    const argv = [
      'run',
      '--source', `s3://${BUCKET}/${seeded.prefix}`,
      '--dest', `s3://${BUCKET}/${dest}/`,
      '--workspace', SANDBOX_WORKSPACE,
      '--workflow', SANDBOX_WORKFLOW,
      '--timeout', '45',
      '--allow-http-references',
      '--state-dir', await mkdtemp(join(tmpdir(), 'bb-attack-state-')),
      '--webhook-url', receiver,
      '--webhook-listen', `127.0.0.1:${port}`,
    ];
    const cli = spawnCli(argv, { ...stack.env, BB_TEST_PROCESS_FAULT: fault }, ['--import', FAULT_PRELOAD]);
    expect(await cli.stderrShows(/waiting on webhooks/, 20_000), 'the receiver did not start').toBe(true);
    return { cli, receiver };
  }

  /** The attacks of issue 10 item 1, none needing the path token. */
  async function attack(receiver: string) {
    const open = async () => {
      const socket = await openSocket(receiver);
      socket.on('error', () => {});
      held.push(socket);
      return socket;
    };
    // Declares 1000 bytes, sends 11, drops the connection.
    for (let i = 0; i < 5; i++) {
      const socket = await open();
      socket.write(requestHead('POST', '/webhooks/guess', { 'content-length': 1000, 'content-type': 'application/json' }) + '{"type":"ro');
      socket.destroy();
    }
    // Slow unauthenticated bodies: each is answered before its body arrives.
    const unauthenticated: Promise<number | undefined>[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = await open();
      socket.write(requestHead('POST', `/webhooks/${'g'.repeat(43)}`, { 'content-length': 1_000_000 }) + '{"pad":"');
      unauthenticated.push(firstResponse(socket, 5_000));
    }
    // Slow loris: request heads that never end, held open, more of them than the receiver's connection cap.
    for (let i = 0; i < DEFAULT_WEBHOOK_LIMITS.maxConnections + 30; i++) (await open()).write(`POST /webhooks/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
    // Not HTTP at all.
    (await open()).write('\x16\x03\x01 hello\r\n\r\n');
    return Promise.all(unauthenticated);
  }

  it('finishes with exit 0 and its summary after aborted, unauthenticated, slow and garbage requests and a stray rejection', async () => {
    const { cli, receiver } = await startRun('attacked', 'rejection');
    const answers = await attack(receiver);
    const midRun = cli.child.exitCode === null;
    cli.child.kill('SIGUSR2');

    const result = await cli.exited(50_000);
    expect(result.stderr).not.toMatch(/Error: aborted|EMFILE/);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expect(midRun, 'the attack must land mid-run').toBe(true);
    expect(answers).toEqual(Array(20).fill(401));
    expect(result.summary).toMatchObject({ status: 'completed', submitted: seeded.images.length, ingested: seeded.images.length, failed: { total: 0 } });
    // The injected rejection is logged; the attack caused none.
    expect(result.stderr.match(/unhandled rejection.*/g)).toEqual([expect.stringMatching(/injected stray rejection/)]);
    const stored = JSON.parse(await text(await stack.store(BUCKET).read(`attacked/${result.summary!.runId}/summary.json`)));
    expect(stored.status).toBe('completed');
  }, 90_000);

  it('ends the run failed, with its summary written, after an uncaught exception', async () => {
    const { cli } = await startRun('crashed', 'exception');
    expect(await cli.stderrShows(/"run started"/, 20_000), 'the run did not start').toBe(true);
    cli.child.kill('SIGUSR2');
    const result = await cli.exited(50_000);
    expect(result.code, result.stderr.slice(-3000)).toBe(1);
    expect(result.summary).toMatchObject({ status: 'failed', error: expect.stringMatching(/internal error: injected uncaught exception/) });
    expect(result.stderr).toMatch(/run \S+ failed: internal error: injected uncaught exception/);
    const stored = JSON.parse(await text(await stack.store(BUCKET).read(`crashed/${result.summary!.runId}/summary.json`)));
    expect(stored).toMatchObject({ status: 'failed', error: result.summary!.error });
  }, 90_000);
});
