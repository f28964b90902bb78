import { describe, expect, it } from 'vitest';
import { newRunRecord } from '../../shared/run/start-run';
import { Chunk, inlineChunks, MAX_ERROR_CHARS, RunRecord } from '../../shared/state/run-record';
import { specFor } from '../support/domain';

describe('stored run records', () => {
  const chunk = (index: number, targetRef: string) => ({ index, ingestId: `bb-r-${index}`, manifestKey: `m/${index}`, references: 2, status: 'ingested', targetRef });

  it('reads the per-input retry map of older records as flagged retry chunks and a finished pass', () => {
    const old = {
      ...newRunRecord('r', specFor('s3://docs/in/', 's3://docs/out/', { media: 'documents' })),
      retried: undefined,
      chunks: [chunk(0, 'bpr_a'), chunk(1, 'bpr_b'), chunk(2, 'bpr_retry')],
      resubmitted: { 'in__x.pdf': 'bpr_retry', 'in__y.pdf': 'bpr_retry' },
    };
    const stored = JSON.parse(JSON.stringify(old));
    const read = RunRecord.parse(stored);
    expect(read.retried).toBe(true);
    expect(inlineChunks(stored).map((c) => c.retry ?? false)).toEqual([false, false, true]);
    expect(read).not.toHaveProperty('chunks');
    expect(read).not.toHaveProperty('resubmitted');
  });

  it('reads an empty map as no retry at all', () => {
    const old = { ...newRunRecord('r', specFor('s3://docs/in/', 's3://docs/out/', { media: 'documents' })), retried: undefined, resubmitted: {} };
    expect(RunRecord.parse(JSON.parse(JSON.stringify(old)))).toMatchObject({ retried: false });
  });

  it('keeps at most MAX_ERROR_CHARS of an error (the run\'s and a chunk\'s), and reading it again changes nothing', () => {
    const long = `export failed: ${'x'.repeat(50_000)}`;
    const run = RunRecord.parse({ ...newRunRecord('r', specFor('s3://docs/in/', 's3://docs/out/')), error: long });
    expect(run.error).toHaveLength(MAX_ERROR_CHARS);
    expect(run.error!.endsWith('…')).toBe(true);
    expect(run.error!.startsWith('export failed: xxx')).toBe(true);
    expect(RunRecord.parse(JSON.parse(JSON.stringify(run))).error).toBe(run.error);
    const chunk = Chunk.parse({ index: 0, ingestId: 'i', manifestKey: 'm', references: 1, status: 'failed', error: long });
    expect(chunk.error).toHaveLength(MAX_ERROR_CHARS);
    expect(RunRecord.parse({ ...run, error: 'short' }).error).toBe('short');
  });
});
