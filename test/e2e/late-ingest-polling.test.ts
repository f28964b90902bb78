import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';

const BUCKET = 'late-ingest';
const FILES = 32;
/** The ingest shows no shard for this long: many polls of an unchanged count of 0. */
const INGEST_DELAY_MS = 600;
const POLL_INTERVAL_S = 0.05;

describe('polling a Roboflow ingest that starts late', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: INGEST_DELAY_MS, jobStageDelayMs: 10 } });
    for (let i = 0; i < FILES; i++) await stack.store(BUCKET).write(`in/${i}.jpg`, fakeImage(`late-${i}`));
  });
  afterAll(async () => {
    await stack.close();
  });

  it('waits for the first shard instead of ending the ingest on an unchanged count, and ingests every file', async () => {
    const result = await runCli(
      [
        'run',
        '--source', `s3://${BUCKET}/in/`,
        '--dest', `s3://${BUCKET}/out/`,
        '--workspace', SANDBOX_WORKSPACE,
        '--workflow', SANDBOX_WORKFLOW,
        '--poll-interval', String(POLL_INTERVAL_S),
        '--timeout', '60',
        '--state-dir', await tempDir('bb-late-ingest-'),
        '--allow-http-references',
        '--quiet',
      ],
      stack.env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', submitted: FILES, ingested: FILES, failed: { total: 0 } });
    // The count was polled, unchanged at 0, far more often than a few times before the first shard.
    const countPolls = stack.roboflow.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/count'));
    expect(countPolls.length).toBeGreaterThan(INGEST_DELAY_MS / (POLL_INTERVAL_S * 1000) / 2);
  });
});
