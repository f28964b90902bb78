import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import { METRIC_CATALOGUE, METRICS_NAMESPACE, SERVICE_DIMENSION, type MetricName } from '../../shared/metrics/catalogue';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { startServerlessHarness, WEBHOOK_TOKEN, type ServerlessHarness } from '../support/serverless';

/** One metric of one EMF line: its directive (dimension sets, unit) and the line's values. */
interface DataPoint {
  name: string;
  unit: string;
  namespace: string;
  dimensionSets: string[][];
  line: Record<string, unknown>;
}

/** Every metric of every CloudWatch embedded metric format line in `output`. */
function emfDataPoints(output: string): DataPoint[] {
  const points: DataPoint[] = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    const line = JSON.parse(text) as Record<string, unknown> & { _aws?: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } };
    for (const directive of line._aws?.CloudWatchMetrics ?? []) {
      for (const m of directive.Metrics) points.push({ name: m.Name, unit: m.Unit, namespace: directive.Namespace, dimensionSets: directive.Dimensions, line });
    }
  }
  return points;
}

/** The JSON log lines (not EMF) in `output`. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((t) => t.startsWith('{'))
    .map((t) => JSON.parse(t) as Record<string, unknown>)
    .filter((l) => !('_aws' in l));
}

const sum = (points: DataPoint[]) => points.reduce((n, p) => n + [p.line[p.name]].flat().reduce((a: number, v) => a + Number(v), 0), 0);

describe('deployed: the EMF metrics and log lines the handlers print', () => {
  let h: ServerlessHarness;
  let printed = '';
  const spies: Array<ReturnType<typeof vi.spyOn>> = [];
  const failedTick = new Date('2026-11-23T10:00:00Z');
  const completedTick = new Date('2026-11-23T11:00:00Z');
  const failedRun = scheduledRunId('docs', failedTick);
  const completedRun = scheduledRunId('docs', completedTick);

  beforeAll(async () => {
    // As in Lambda, where Powertools reads it to tell a container's first invocation.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    // One input the target cannot read: its result file fails at export, so that run fails.
    h = await startServerlessHarness({ target: 'extend', powertools: true, extend: { runDelayMs: 10, faults: { failUrlsMatching: /broken/ } }, config: { referencesPerFile: 2, listPageSize: 2 } });
    const media = h.stack.store('media');
    for (const key of ['incoming/a.pdf', 'incoming/b.pdf', 'incoming/broken.pdf']) await media.write(key, `text of ${key}`);
    await media.write('incoming/photo.raw', 'not a document');
    // What Lambda would send to CloudWatch Logs: stdout (EMF, log lines) and stderr (Powertools prints errors there).
    for (const stream of [process.stdout, process.stderr]) {
      const spy = vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        return true;
      });
      spies.push(spy);
    }

    const ended = (runId: string) => async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(runId))?.phase ?? '');
    const quiet = async () => h.aws.pending().length === 0 && h.waiting.length === 0;
    const post = (headers: Record<string, string>, body: string) => fetch(`${h.webhookUrl}webhooks/${WEBHOOK_TOKEN}`, { method: 'POST', headers, body });

    // A scheduled run through every function that fails (one result file), as Lambda invokes it.
    await h.main.scheduledRun({ sourceId: 'docs', time: failedTick.toISOString() }, { ...h.context(), awsRequestId: 'req-scheduled-1', functionName: 'scheduled-run' });
    await h.pump(ended(failedRun), 20_000);
    const deadline = Date.now() + 10_000;
    while (h.extend!.webhookDeliveries.length < 3 + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await h.pump(quiet);
    // A replayed webhook (duplicate) and a tampered one (rejected).
    const delivery = h.extend!.webhookDeliveries.find((d) => String(JSON.parse(d.rawBody).eventType).startsWith('batch_processor_run.'))!;
    expect((await post(delivery.headers, delivery.rawBody)).status).toBe(200);
    expect((await post(delivery.headers, JSON.stringify({ ...JSON.parse(delivery.rawBody), eventId: 'evt_spoofed' }))).status).toBe(401);

    // The next tick: one new document (the others are in the ledger, skipped), a run that completes.
    await media.write('incoming/c.pdf', 'text of incoming/c.pdf');
    await h.main.scheduledRun({ sourceId: 'docs', time: completedTick.toISOString() }, h.context());
    await h.pump(ended(completedRun), 20_000);
    await h.pump(quiet);
    for (const spy of spies) spy.mockRestore();
  }, 90_000);
  afterAll(async () => {
    for (const spy of spies) spy.mockRestore();
    vi.unstubAllEnvs();
    await h?.close();
  });

  it('finds every metric of the catalogue, in namespace BucketBridge with its unit, and exactly the service dimension plus its own', () => {
    const points = emfDataPoints(printed);
    for (const [name, def] of Object.entries(METRIC_CATALOGUE) as Array<[MetricName, (typeof METRIC_CATALOGUE)[MetricName]]>) {
      const found = points.filter((p) => p.name === name);
      expect(found.length, `${name} was not published`).toBeGreaterThan(0);
      for (const p of found) {
        expect(p.namespace, name).toBe(METRICS_NAMESPACE);
        expect(p.unit, name).toBe(def.unit);
        expect(p.dimensionSets, name).toEqual([[SERVICE_DIMENSION, ...def.dimensions]]);
        expect(p.line[SERVICE_DIMENSION], name).toBe('BridgeHarness');
        for (const d of def.dimensions) expect(p.line[d], `${name} ${d}`).toEqual(expect.any(String));
        expect(p.line.Target, name).toBe('extend');
        // The run id is a property of the line, never a dimension.
        if (name !== 'WebhookOutcomes') expect(p.line.runId, name).toMatch(/^s-docs-/);
      }
    }
    // Nothing outside the catalogue, except Powertools' cold-start count.
    const names = new Set(points.map((p) => p.name));
    expect([...names].filter((n) => !(n in METRIC_CATALOGUE))).toEqual(['ColdStart']);
    expect(points.filter((p) => p.name === 'ColdStart').every((p) => p.dimensionSets[0]![0] === SERVICE_DIMENSION)).toBe(true);
  });

  it('counts what happened: the runs, their objects, result files, webhook outcomes and phases', () => {
    const points = emfDataPoints(printed);
    const of = (name: MetricName, dims: Record<string, string> = {}, runId?: string) =>
      points.filter((p) => p.name === name && Object.entries(dims).every(([k, v]) => p.line[k] === v) && (!runId || p.line.runId === runId));
    expect(sum(of('RunsStarted', { Trigger: 'scheduled' }))).toBe(2);
    expect(sum(of('RunsFailed', {}, failedRun))).toBe(1);
    expect(sum(of('RunsCompleted', {}, completedRun))).toBe(1);
    expect(of('RunsCompleted', {}, failedRun)).toEqual([]);
    expect(sum(of('ObjectsListed', {}, failedRun))).toBe(4);
    expect(sum(of('ObjectsSubmitted', {}, failedRun))).toBe(3);
    expect(sum(of('ObjectsSkipped', { Reason: 'not-media' }, failedRun))).toBe(1);
    expect(sum(of('ObjectsSkipped', { Reason: 'already-submitted' }, completedRun))).toBe(3);
    expect(sum(of('ObjectsSubmitted', {}, completedRun))).toBe(1);
    expect(sum(of('ObjectsFailed', { Stage: 'export' }, failedRun))).toBe(1);
    expect(sum(of('ResultFilesFailed', {}, failedRun))).toBe(1);
    expect(sum(of('ResultFilesCopied', {}, failedRun))).toBe(2);
    expect(sum(of('ResultFilesCopied', {}, completedRun))).toBe(1);
    expect(sum(of('ResultBytesCopied', {}, completedRun))).toBeGreaterThan(0);
    for (const outcome of ['handled', 'duplicate', 'rejected']) expect(sum(of('WebhookOutcomes', { Outcome: outcome })), outcome).toBeGreaterThan(0);
    // Each phase a run left, once per run.
    for (const runId of [failedRun, completedRun]) {
      const phases = of('PhaseDuration', {}, runId).map((p) => p.line.Phase);
      expect(new Set(phases).size, runId).toBe(phases.length);
      expect(phases, runId).toEqual(expect.arrayContaining(['discovering', 'exporting']));
    }
  });

  it('logs JSON lines with the service, request id, cold-start flag and run id, and no signed URL', () => {
    const lines = logLines(printed);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatchObject({ level: expect.any(String), message: expect.any(String), service: 'BridgeHarness', timestamp: expect.any(String) });
    const created = lines.find((l) => l.function_request_id === 'req-scheduled-1');
    expect(created).toMatchObject({ cold_start: true, function_name: 'scheduled-run', runId: failedRun });
    expect(lines.find((l) => l.message === 'run failed')).toMatchObject({ level: 'ERROR', runId: failedRun });
    // Signed URLs (bearer credentials) never reach a line.
    expect(printed).not.toMatch(/X-Amz-Signature=/);
  });
});

describe('deployed: the objects of a run listed in partitions, counted by the partition workers', () => {
  let h: ServerlessHarness;
  let printed = '';
  const tick = new Date('2026-12-01T10:00:00Z');
  const runId = scheduledRunId('cams', tick);

  beforeAll(async () => {
    h = await startServerlessHarness({ powertools: true, config: { listPageSize: 4, referencesPerFile: 8, discovery: { partitions: 4, sweepSeconds: 1 } } });
    const media = h.stack.store('media');
    const keys = [...['a', 'b', 'c'].flatMap((d) => Array.from({ length: 6 }, (_, i) => `incoming/${d}/${i}.jpg`)), 'incoming/b/notes.txt', 'incoming/top.jpg'];
    await Promise.all(keys.map((key) => media.write(key, fakeImage(key, 128))));
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        return true;
      });
    }
    await h.main.scheduledRun({ sourceId: 'cams', time: tick.toISOString() }, h.context());
    await h.pump(async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(runId))?.phase ?? ''), 30_000);
    vi.restoreAllMocks();
  }, 90_000);
  afterAll(async () => {
    vi.restoreAllMocks();
    await h?.close();
  });

  it('publishes as many listed, submitted and skipped objects as the run records', async () => {
    const run = (await h.main.runtime.state.getRun(runId))!;
    expect(run.phase, run.error).toBe('completed');
    expect(h.deliveries.filter((d) => d.queue === 'partitions').length).toBeGreaterThan(1);
    const points = emfDataPoints(printed).filter((p) => p.line.runId === runId);
    const of = (name: MetricName) => points.filter((p) => p.name === name);
    expect(run.listed).toBe(20);
    expect(sum(of('ObjectsListed'))).toBe(run.listed);
    expect(sum(of('ObjectsSubmitted'))).toBe(run.submitted);
    expect(sum(of('ObjectsSkipped'))).toBe(1);
    expect(sum(of('RunsCompleted'))).toBe(1);
    // Discovery ended once, at the join of the partitions.
    expect(of('PhaseDuration').map((p) => p.line.Phase).filter((phase) => phase === 'discovering')).toEqual(['discovering']);
  });
});
