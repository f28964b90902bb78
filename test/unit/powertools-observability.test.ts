import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { powertoolsObservability } from '../../shared/runtime/observability';
import { registerSecrets } from '../../shared/scrub-secrets';

/** What the deployed functions print (stdout and stderr, as CloudWatch Logs receives both), one JSON object per line. */
let printed: string[] = [];
beforeEach(() => {
  printed = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }
});
afterEach(() => vi.restoreAllMocks());

const lines = () => printed.map((l) => JSON.parse(l) as Record<string, unknown>);
const context = { awsRequestId: 'req-1', functionName: 'export', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:export', memoryLimitInMB: '1536', functionVersion: '$LATEST' };

describe('the deployed functions’ logs (Powertools Logger behind our Logger port)', () => {
  it('puts the service, request id and run id on every line, and scrubs secrets and signed URLs from message and fields', async () => {
    const secret = 'sk-live-0123456789abcdef';
    registerSecrets(secret);
    const o = powertoolsObservability({ POWERTOOLS_SERVICE_NAME: 'BucketBridge', POWERTOOLS_LOG_LEVEL: 'INFO' });
    await o.invocation(context, () =>
      o.forRun('s-cams-1', async () => {
        o.log.warn(`target said: key ${secret} refused`, {
          url: 'https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Signature=abc123&X-Amz-Credential=AKIA',
          detail: { echoed: `Bearer ${secret}` },
          service: 'roboflow',
        });
      }),
    );
    o.log.info('after the run');
    const [warned, after] = lines();
    expect(warned).toMatchObject({
      level: 'WARN',
      service: 'BucketBridge',
      function_request_id: 'req-1',
      function_name: 'export',
      cold_start: expect.any(Boolean),
      runId: 's-cams-1',
      message: 'target said: key [redacted] refused',
      url: 'https://bucket.s3.amazonaws.com/a.jpg?<redacted>',
      // A field named like a Powertools key keeps its value under another name.
      field_service: 'roboflow',
    });
    expect(JSON.stringify(warned)).not.toContain(secret);
    expect(JSON.stringify(warned)).not.toContain('X-Amz-Signature');
    // The run id belongs to the run's work only.
    expect(after).not.toHaveProperty('runId');
  });

  it('takes the level from POWERTOOLS_LOG_LEVEL, else LOG_LEVEL', async () => {
    const warnOnly = powertoolsObservability({ POWERTOOLS_LOG_LEVEL: 'WARN', LOG_LEVEL: 'DEBUG' });
    warnOnly.log.info('hidden');
    warnOnly.log.warn('shown');
    const fallback = powertoolsObservability({ LOG_LEVEL: 'ERROR' });
    fallback.log.warn('hidden too');
    fallback.log.error('shown too');
    expect(lines().map((l) => l.message)).toEqual(['shown', 'shown too']);
  });

  it('logs debug lines for the sampled share of invocations (POWERTOOLS_LOGGER_SAMPLE_RATE)', async () => {
    const always = powertoolsObservability({ POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_LOGGER_SAMPLE_RATE: '1' });
    await always.invocation(context, async () => always.log.debug('sampled detail'));
    const never = powertoolsObservability({ POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_LOGGER_SAMPLE_RATE: '0' });
    await never.invocation(context, async () => never.log.debug('unsampled detail'));
    const messages = lines().map((l) => l.message);
    expect(messages).toContain('sampled detail');
    expect(messages).not.toContain('unsampled detail');
  });

  it('prints the metrics counted during an invocation as EMF when it ends, even when the work throws', async () => {
    const o = powertoolsObservability({ POWERTOOLS_SERVICE_NAME: 'BucketBridge' });
    await expect(
      o.invocation(context, async () => {
        o.metrics.add('RunsFailed', 1, { Target: 'roboflow' }, 'r-1');
        o.metrics.add('ObjectsSkipped', 2, { Target: 'roboflow', Reason: 'not-media' }, 'r-1');
        o.metrics.add('ObjectsSkipped', 3, { Reason: 'not-media', Target: 'roboflow' }, 'r-1');
        expect(printed.filter((l) => l.includes('_aws'))).toEqual([]);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    const emf = lines().filter((l) => '_aws' in l);
    expect(emf).toHaveLength(2);
    expect(emf).toContainEqual(expect.objectContaining({ service: 'BucketBridge', Target: 'roboflow', runId: 'r-1', RunsFailed: 1 }));
    // Same dimension values and run: one line, the counts summed, dimensions in the catalogue's order.
    const skipped = emf.find((l) => 'ObjectsSkipped' in l)!;
    expect(skipped).toMatchObject({ ObjectsSkipped: 5, Reason: 'not-media' });
    expect((skipped._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'Target', 'Reason']]);
  });
});
