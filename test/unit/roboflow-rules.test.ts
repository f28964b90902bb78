import { describe, expect, it } from 'vitest';
import type { JobStage } from '../../shared/targets/roboflow/api-schemas';
import { describeIngestError, describeShardError } from '../../shared/targets/roboflow/ingest-errors';
import { httpReferencesProblem, httpReferencesRefusal } from '../../shared/targets/roboflow/references-url';
import { resultsStage } from '../../shared/targets/roboflow/results-stage';

const stage = (name: string, outputBatches: string[], startTimestamp?: string): JobStage => ({
  processingStageId: `id-${name}`,
  processingStageName: name,
  outputBatches,
  statusType: 'success',
  startTimestamp,
});

describe('the stage holding a job results', () => {
  it('is export when it produced output, wherever it is listed', () => {
    expect(resultsStage([stage('export', ['j-export']), stage('processing', ['j-processing'])])?.processingStageName).toBe('export');
  });

  it('is otherwise the last stage with output batches, by start time when every one gives it', () => {
    const listedBackwards = [stage('pack', ['j-pack'], '2026-12-04T10:05:00Z'), stage('processing', ['j-p'], '2026-12-04T10:00:00Z'), stage('notify', [], '2026-12-04T10:09:00Z')];
    expect(resultsStage(listedBackwards)?.processingStageName).toBe('pack');
    expect(resultsStage([stage('processing', ['j-p']), stage('pack', ['j-pack'], '2026-12-04T10:05:00Z')])?.processingStageName).toBe('pack');
    expect(resultsStage([stage('export', []), stage('processing', ['j-p'])])?.processingStageName).toBe('processing');
  });

  it('does not exist when no stage produced output', () => {
    expect(resultsStage([stage('processing', []), stage('export', [])])).toBeUndefined();
    expect(resultsStage([])).toBeUndefined();
  });
});

describe('what Roboflow refuses in references', () => {
  const signed = 'http://minio.internal:9000/b/k.jsonl?X-Amz-Signature=s3cr3t&X-Amz-Credential=AKIA';

  it('unsafe-url-detected names the host and nothing of the path or signature', () => {
    const message = describeIngestError('unsafe-url-detected', `Untrusted domain found: https://cdn.example.com:8443/imgs/a.jpg?X-Amz-Signature=s3cr3t`);
    expect(message).toMatch(/^unsafe-url-detected: Roboflow refused to download from host cdn\.example\.com:8443, which it does not trust\./);
    expect(message).toContain('ask Roboflow to trust cdn.example.com:8443');
    expect(message).not.toMatch(/s3cr3t|imgs/);
    expect(describeIngestError('unsafe-url-detected', 'Untrusted domain found')).toContain('from a host it did not name');
    expect(describeIngestError('file-size-limit-exceeded', 'too big')).toBe('file-size-limit-exceeded: too big');
  });

  it('reads unsafe-url-detected from whatever a failed shard carries', () => {
    const metadata = { errorType: 'unsafe-url-detected', reason: 'Untrusted domain found: http://127.0.0.1:4569/bucket/x.jpg' };
    expect(describeShardError('shard-ingest-failed', 'error', metadata)).toMatch(/host 127\.0\.0\.1:4569, which it does not trust/);
    expect(describeShardError('shard-ingest-failed', 'error', { reason: 'other' })).toBe('shard-ingest-failed (error)');
  });

  it('plain http is refused unless opted in, naming only the origin', () => {
    expect(httpReferencesProblem(signed, false)).toEqual({ expected: expect.stringContaining('--allow-http-references'), received: 'http://minio.internal:9000' });
    expect(httpReferencesProblem(signed, true)).toBeUndefined();
    expect(httpReferencesProblem(signed.replace('http:', 'https:'), false)).toBeUndefined();
    expect(httpReferencesRefusal(signed, false)?.message).not.toMatch(/s3cr3t|AKIA|k\.jsonl/);
  });
});
