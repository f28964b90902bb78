import { afterEach, describe, expect, it } from 'vitest';
import { seedDemoBucket } from '../../sandbox/seed';
import { InputError } from '../../shared/errors';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { listObjects } from '../support/s3';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

/**
 * Deployed, plain-http references are refused before a run exists unless the Roboflow target opts
 * in (`allowHttpReferences`, e.g. a private S3-compatible endpoint): Roboflow's official client refuses them, and the API's answer is not documented.
 */
describe('deployed plain-http references', () => {
  let h: ServerlessHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const tick = new Date('2026-12-02T03:00:00Z');

  it('a scheduled tick without the opt-in fails naming the source, nothing created or submitted', async () => {
    h = await startServerlessHarness({ allowHttpReferences: false });
    await seedDemoBucket(h.stack.store('media'), 'incoming/', { withOversize: false });
    const outcome = await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context()).catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(InputError);
    expect((outcome as InputError).message).toMatch(
      /^sources\[id=cams\]: expected https signed URLs \(Roboflow's official client refuses http:\/\/ references URLs; the API's answer to them is not documented; .*allowHttpReferences in a deployment's Roboflow target\), got "http:\/\/127\.0\.0\.1:\d+"$/,
    );
    expect(await h.main.runtime.state.getRun(scheduledRunId('cams', tick))).toBeUndefined();
    expect(h.stack.roboflow.requests).toEqual([]);
    expect(await listObjects(h.stack.store('media'), 'bucket-bridge/')).toEqual([]);
    expect(await listObjects(h.stack.store('results'), '')).toEqual([]);
    expect(h.deliveries).toEqual([]);
  });
});
