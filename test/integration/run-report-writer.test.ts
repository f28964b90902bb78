import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endRun } from '../../shared/pipeline/fail-run';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { ObjectStore } from '../../shared/storage/port';
import { specFor, tempDir } from '../support/domain';
import { createBucket, listObjects, startTestS3, type TestS3 } from '../support/s3';

const HOSTILE = 'in/<img src=x onerror=alert(1)>.jpg';

/** A destination that refuses every write of a key ending in `suffix` (as a store that failed half-way would). */
function refusingWrites(store: ObjectStore, suffix: string): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'write') {
        return (key: string, ...rest: Parameters<ObjectStore['write']> extends [string, ...infer R] ? R : never) =>
          key.endsWith(suffix) ? Promise.reject(new Error(`refused ${key}`)) : target.write(key, ...rest);
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('report.html at the end of a run', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [] });
    await createBucket(s3.client, 'out');
  });
  afterAll(() => s3.server.close());

  async function endedRun(runId: string, dest: ObjectStore) {
    const state = new FileStateStore(await tempDir('bb-report-'));
    const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
    const log = { debug() {}, info() {}, error() {}, warn: (m: string, f?: Record<string, unknown>) => void warnings.push([m, f]) };
    await state.createRun({
      ...newRunRecord(runId, specFor('s3://out/in/', 's3://out/results/')),
      phase: 'ingesting',
      listed: 4,
      submitted: 2,
      skipped: { 'not-media': 2 },
      skippedKeys: { 'not-media': ['in/a.txt', 'in/"quoted".txt'] },
    });
    await state.recordFailures(runId, [{ name: 'in__x.jpg', key: HOSTILE, stage: 'ingest', type: 'file-download-failed', reason: 'HTTP 404' }]);
    await endRun({ state, dest, log }, runId, 'failed', 'job failed: <script>');
    return { state, warnings };
  }

  it('is written next to summary.json with the skipped keys the run kept and its failures, escaped', async () => {
    await endedRun('with-report', s3.store('out'));
    const report = await text(await s3.store('out').read('results/with-report/report.html'));
    expect(report).toContain('data-status="failed"');
    expect(report).toContain('job failed: &lt;script&gt;');
    expect(report).toContain('<code>in/a.txt</code>');
    expect(report).toContain('data-key="in/&quot;quoted&quot;.txt"');
    expect(report).toContain('in/&lt;img src=x onerror=alert(1)&gt;.jpg');
    expect(report).toContain('data-count="skipped.not-media" data-value="2"');
    expect(report).not.toMatch(/<img|<script/);
  });

  it('that cannot be written leaves a warning, and the run ends with its summary', async () => {
    const { state, warnings } = await endedRun('no-report', refusingWrites(s3.store('out'), '/report.html'));
    const keys = (await listObjects(s3.store('out'), 'results/no-report/')).map((o) => o.key);
    expect(keys).toContain('results/no-report/summary.json');
    expect(keys).not.toContain('results/no-report/report.html');
    expect(warnings).toEqual([['run report not written', { runId: 'no-report', error: expect.stringContaining('refused results/no-report/report.html') }]]);
    expect((await state.getRun('no-report'))?.phase).toBe('failed');
  });
});
