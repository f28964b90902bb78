import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { advance } from '../../shared/pipeline/chain';
import { continueSubmission } from '../../shared/run/submit-run';
import { startRun } from '../../shared/run/start-run';
import { specFor, stackDeps } from '../support/domain';
import { readChunks } from '../../shared/state/run-chunks';

describe('a references file submitted again after a crash', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['dups'], emulator: { ingestDelayMs: 10, jobStageDelayMs: 20 } });
    seeded = await seedDemoBucket(stack.store('dups'), 'in/', { withOversize: false });
  });
  afterAll(() => stack.close());

  it('comes back duplicated, keeps what its notifications reported, and the job still starts once', async () => {
    const deps = await stackDeps(stack, 'dups');
    const run = await startRun(deps, specFor('s3://dups/in/', 's3://dups/out/'));
    expect(await readChunks(deps.state, run.runId)).toEqual([expect.objectContaining({ index: 0, status: 'submitted', duplicated: false })]);

    // Its ingest-status arrived, then the invocation died before the checkpoint was stored.
    await deps.state.updateRun(run.runId, (r) => ({
      ...r,
      phase: 'discovering',
      submissionComplete: false,
      submitted: 0,
      listed: 0,
      skipped: {},
      checkpoint: { nextChunk: 0 },
    }));
    await deps.state.updateChunk(run.runId, { index: 0 }, (c) => c && { ...c, status: 'ingested' });
    expect(await continueSubmission(deps, run.runId)).toBe('submitted');
    const resubmitted = (await deps.state.getRun(run.runId))!;
    expect(await readChunks(deps.state, run.runId)).toEqual([expect.objectContaining({ index: 0, status: 'ingested', duplicated: true })]);
    expect(resubmitted.submitted).toBe(seeded.images.length);

    const deadline = Date.now() + 10_000;
    let result = await advance(deps, run.runId, { awaitIngestEvents: true });
    while (result.state === 'waiting' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      result = await advance(deps, run.runId, { awaitIngestEvents: true });
    }
    const started = (await deps.state.getRun(run.runId))!;
    expect(result.state, started.error).toBe('started');
    expect(started.ingested).toBe(seeded.images.length);
    expect(stack.roboflow.jobsStarted()).toEqual([run.jobId]);
    const ingests = stack.roboflow.requests.filter((r) => r.path.endsWith('/bulk-upload/image-references'));
    expect(ingests.map((r) => (r.body as { ingestId: string }).ingestId)).toEqual([`${run.batchId}-0`, `${run.batchId}-0`]);
  });
});
