import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { newRunRecord } from '../../shared/run/start-run';
import type { RunRecord } from '../../shared/state/run-record';
import { RoboflowClient } from '../../shared/targets/roboflow/client';
import { RoboflowTarget } from '../../shared/targets/roboflow/target';
import { specFor } from '../support/domain';

const BUCKET = 'job-start';

/** Starting a job through the Roboflow target against the emulator over HTTP, when the answers mislead. */
describe('Roboflow job start: one job, on the run batch', () => {
  let stack: LocalStack;
  let client: RoboflowClient;
  let target: RoboflowTarget;

  /** A batch holding two ingested images. */
  async function stagedBatch(batchId: string): Promise<void> {
    const store = stack.store(BUCKET);
    const imageReferences = [];
    for (const name of ['a.jpg', 'b.jpg']) {
      await store.write(`${batchId}/${name}`, fakeImage(name));
      imageReferences.push({ name, url: await store.presignGet(`${batchId}/${name}`, { expiresInSeconds: 600 }) });
    }
    await client.ingestImageReferences(batchId, { imageReferences });
    for (const deadline = Date.now() + 10_000; (await client.batchCount(batchId)) < 2; ) {
      if (Date.now() > deadline) throw new Error(`batch ${batchId} not staged in time`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A run of `batchId` whose job id is `jobId` (ids are normally derived; here one is taken on purpose). */
  function runOn(batchId: string, jobId: string): RunRecord {
    return { ...newRunRecord(batchId, specFor(`s3://${BUCKET}/in/`, `s3://${BUCKET}/out/`)), batchId, jobId };
  }

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 5, jobStageDelayMs: 10 } });
    client = new RoboflowClient({ apiKey: stack.apiKey, workspace: SANDBOX_WORKSPACE, apiUrl: stack.roboflow.url, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    target = new RoboflowTarget(client, undefined, { allowHttpReferences: true });
    await stagedBatch('batch-a');
    await stagedBatch('batch-b');
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.roboflow.setFaults({}));

  const jobPath = (jobId: string) => `/batch-processing/v1/external/${SANDBOX_WORKSPACE}/jobs/${jobId}`;

  it('never copies the results of a job on another batch, even when the start is answered 200 and cannot be checked', async () => {
    await target.startJob(runOn('batch-a', 'taken-a'));
    stack.roboflow.setFaults({
      repeatedJobPostStatus: 200,
      failures: [{ pathIncludes: jobPath('taken-a'), method: 'GET', status: 500, count: 1 }],
    });
    const run = runOn('batch-b', 'taken-a');
    await target.startJob(run);
    for (const deadline = Date.now() + 10_000; ; ) {
      const outcome = await target.jobOutcome(run);
      if (outcome.terminal) {
        expect(outcome).toMatchObject({ failed: true, outputBatches: [] });
        expect(outcome.detail).toBe("job taken-a already exists at Roboflow on batch batch-a, not on this run's batch batch-b");
        break;
      }
      if (Date.now() > deadline) throw new Error('job never ended');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(stack.roboflow.jobsStarted()).toEqual(['taken-a']);
  });

  it('fails a refused start with the refusal when no job exists, and carries on when ours does', async () => {
    stack.roboflow.setFaults({ failures: [{ pathIncludes: jobPath('refused-b'), method: 'POST', status: 409, count: 1, body: { error: 'emulated conflict' } }] });
    await expect(target.startJob(runOn('batch-b', 'refused-b'))).rejects.toThrow(/HTTP 409: emulated conflict/);
    expect(stack.roboflow.jobsStarted()).not.toContain('refused-b');

    await target.startJob(runOn('batch-b', 'ours-b'));
    stack.roboflow.setFaults({ repeatedJobPostStatus: 422 });
    await expect(target.startJob(runOn('batch-b', 'ours-b'))).resolves.toBeUndefined();
    expect(stack.roboflow.jobsStarted().filter((id) => id === 'ours-b')).toHaveLength(1);
  });
});
