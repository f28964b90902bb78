import { describe, expect, it } from 'vitest';
import type { MetricName } from '../../shared/metrics/catalogue';
import type { Metrics } from '../../shared/metrics/port';
import { failRun } from '../../shared/pipeline/fail-run';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { specFor, tempDir } from '../support/domain';

function recordingMetrics() {
  const points: Array<{ name: MetricName; value: number; dimensions: Record<string, string>; runId?: string }> = [];
  const metrics: Metrics = { add: (name, value, dimensions, runId) => points.push({ name, value, dimensions, runId }) };
  return { metrics, points };
}

describe('failRun (a run ended failed in state alone)', () => {
  it('counts RunsFailed once, by the call that ended the run, so the alarm sees it', async () => {
    const state = new FileStateStore(await tempDir('bb-fail-run-'));
    await state.createRun(newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')));
    const { metrics, points } = recordingMetrics();

    await Promise.all([failRun(state, 'r1', 'destination gone', metrics), failRun(state, 'r1', 'destination gone', metrics)]);
    await failRun(state, 'r1', 'again', metrics);

    expect((await state.getRun('r1'))?.phase).toBe('failed');
    expect((await state.getRun('r1'))?.error).toBe('destination gone');
    expect(points).toEqual([{ name: 'RunsFailed', value: 1, dimensions: { Target: 'roboflow' }, runId: 'r1' }]);
  });
});
