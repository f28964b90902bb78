import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';
import { listObjects } from '../support/s3';

// Every request to this S3 server is SigV4-checked: listings, uploads, HEADs, and the signed URLs
// the Roboflow emulator downloads. A wrong canonical path or signature fails the run.
describe('bucket-bridge run against a SigV4-verifying S3 server', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['strict'], verifySignatures: true, emulator: { ingestDelayMs: 10, jobStageDelayMs: 20 } });
    await seedDemoBucket(stack.store('strict'), 'in/', { withOversize: false });
  });
  afterAll(() => stack.close());

  it('completes the loop with paginated listings and every signed URL accepted', async () => {
    const result = await runCli(
      [
        'run', '--source', 's3://strict/in/', '--dest', 's3://strict/out/',
        '--workspace', SANDBOX_WORKSPACE, '--workflow', SANDBOX_WORKFLOW,
        '--page-size', '5', '--poll-interval', '0.05', '--timeout', '60', '--state-dir', await tempDir('bb-strict-'), '--quiet',
      ],
      stack.env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', listed: 33, submitted: 32, ingested: 32, failed: { total: 0 } });
    const objects = await listObjects(stack.store('strict'), `out/${result.summary!.runId}/`);
    // The results, plus summary.json, failed.jsonl, names.jsonl, report.html and results-by-key.jsonl.
    expect(objects.length).toBe(result.summary!.exported.files + 5);
  });
});
