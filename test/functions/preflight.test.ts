import { afterEach, describe, expect, it } from 'vitest';
import { seedDemoBucket } from '../../sandbox/seed';
import { InputError } from '../../shared/errors';
import { flushPending, recordCreatedObjects } from '../../shared/run/object-events';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { listObjects } from '../support/s3';
import { startServerlessHarness, type HarnessOptions, type ServerlessHarness } from '../support/serverless';

/**
 * Deployed, a scheduled tick checks the run can work before it creates or submits anything; a
 * failure fails the invocation with the configuration field named, and nothing is submitted.
 */
describe('deployed preflight (scheduled and object-created runs)', () => {
  let h: ServerlessHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const tick = new Date('2026-12-01T03:00:00Z');

  async function tickWith(options: HarnessOptions) {
    h = await startServerlessHarness(options);
    await seedDemoBucket(h.stack.store('media'), 'incoming/', { withOversize: false });
    const outcome = await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context()).catch((err: unknown) => err);
    return { h, outcome };
  }

  async function expectNothingSubmitted(harness: ServerlessHarness) {
    expect(await harness.main.runtime.state.getRun(scheduledRunId('cams', tick))).toBeUndefined();
    expect(harness.stack.roboflow.requests.filter((r) => r.path !== '/').map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(await listObjects(harness.stack.store('media'), 'bucket-bridge/')).toEqual([]);
    expect(harness.deliveries).toEqual([]);
    expect(harness.aws.pending()).toEqual([]);
  }

  it('a destination bucket that does not exist: the tick fails naming `destination`, nothing created or submitted', async () => {
    const { h, outcome } = await tickWith({ config: { destination: { bucket: 'no-such-results', prefix: 'out/' } } });
    expect(outcome).toBeInstanceOf(InputError);
    expect((outcome as InputError).message).toMatch(/^destination: expected a destination the credentials can write to \(a probe write was refused: .*s3:\/\/no-such-results\/out\/\.bucket-bridge-probe-[0-9a-f]{12}.*NoSuchBucket.*\), got "s3:\/\/no-such-results\/out\/"$/);
    await expectNothingSubmitted(h);
  });

  it('an object-created batch whose destination is missing: the flush fails naming `destination`, every object stays pending', async () => {
    h = await startServerlessHarness({ config: { destination: { bucket: 'no-such-results', prefix: 'out/' }, debounce: { quietSeconds: 1, maxObjects: 2 } } });
    const seeded = await seedDemoBucket(h.stack.store('media'), 'incoming/', { withOversize: false });
    const ports = h.main.runtimes['continue-submission'];
    const objects = seeded.images.slice(0, 2).map((key, i) => ({ bucket: 'media', key, size: 10, etag: `e${i}` }));
    const now = new Date();
    await recordCreatedObjects(h.main.runtimes['object-created'], objects, now);
    const outcome = await flushPending(ports, 'cams', now).catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(InputError);
    expect((outcome as InputError).field).toBe('destination');
    expect(await h.main.runtime.pending.state('cams')).toMatchObject({ pending: 2 });
    expect(h.stack.roboflow.requests.filter((r) => r.path !== '/')).toEqual([]);
    expect(await listObjects(h.stack.store('media'), 'bucket-bridge/')).toEqual([]);
  });

  it('a workspace the key does not belong to: the tick fails naming `target.workspace`', async () => {
    const { h, outcome } = await tickWith({ emulator: { workspace: 'the-keys-workspace' } });
    expect(outcome).toBeInstanceOf(InputError);
    expect((outcome as InputError).message).toContain('target.workspace: expected the workspace the API key belongs to ("the-keys-workspace")');
    await expectNothingSubmitted(h);
    // The destination check ran first and left nothing behind.
    expect(await listObjects(h.stack.store('results'), '')).toEqual([]);
  });
});
