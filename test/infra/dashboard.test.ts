import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction, Code, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../infra/bridge-function';
import { createBridgeAlarms } from '../../infra/observability/alarms';
import { POWERTOOLS_COLD_START } from '../../infra/observability/cold-start-metric';
import { createBridgeDashboard } from '../../infra/observability/dashboard';
import { METRIC_CATALOGUE, METRICS_NAMESPACE, type MetricName } from '../../shared/metrics/catalogue';
import { chartedSeries, dashboards, type ChartedMetric, type ChartedSearch } from './dashboard-body';
import { logicalId, synthStack, testApp } from './fixtures';

const { stack, template } = synthStack();
const bridge = stack.bridge;
const [dashboard, ...others] = dashboards(template);
const { metrics, searches } = chartedSeries(dashboard!.widgets);

/** Dimension values the code enumerates, charted one line each (the others are open: a SEARCH finds them). */
const ENUMERATED: Record<string, string[]> = {
  Phase: ['discovering', 'ingesting', 'processing', 'exporting'],
  Stage: ['ingest', 'export'],
};

const sorted = (names: Iterable<string>) => [...names].sort();

/** Lines of catalogue metric `name` of this deployment, with exactly the catalogue's dimensions plus `service`. */
function catalogueLines(name: MetricName): { lines: ChartedMetric[]; found: ChartedSearch[] } {
  const expected = sorted([...METRIC_CATALOGUE[name].dimensions, 'service']);
  const lines = metrics.filter(
    (m) =>
      m.namespace === 'BucketBridge' &&
      m.metricName === name &&
      JSON.stringify(sorted(Object.keys(m.dimensions))) === JSON.stringify(expected) &&
      m.dimensions.service === bridge.serviceName &&
      m.dimensions.Target === 'roboflow',
  );
  const found = searches.filter(
    (s) =>
      s.namespace === 'BucketBridge' &&
      JSON.stringify(sorted(s.dimensionNames)) === JSON.stringify(expected) &&
      s.filter.MetricName === name &&
      s.filter.service === bridge.serviceName &&
      s.filter.Target === 'roboflow',
  );
  return { lines, found };
}

describe('dashboard', () => {
  it('is one dashboard per bridge, named after its stack, construct and region', () => {
    expect(others).toEqual([]);
    expect(dashboard!.name).toBe('BridgeTest-Bridge-<Ref:AWS::Region>');
  });

  it('selects the service name every function publishes under (its POWERTOOLS_SERVICE_NAME)', () => {
    const resources = template.toJSON().Resources;
    for (const [name, fn] of Object.entries(bridge.functions)) {
      expect(resources[logicalId(stack, fn)].Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME, name).toBe(bridge.serviceName);
    }
  });

  it('charts every catalogue metric with all its dimensions, for this deployment\'s service and target', () => {
    for (const name of Object.keys(METRIC_CATALOGUE) as MetricName[]) {
      const { lines, found } = catalogueLines(name);
      const varying = METRIC_CATALOGUE[name].dimensions.filter((d) => d !== 'Target');
      if (varying.length === 0) {
        expect(lines.length, name).toBeGreaterThan(0);
      } else if (varying.length === 1 && ENUMERATED[varying[0]!]) {
        const dim = varying[0]!;
        expect(sorted(new Set(lines.map((l) => l.dimensions[dim]!))), name).toEqual(sorted(ENUMERATED[dim]!));
      } else {
        // An open enumeration (skip reasons, webhook outcomes, triggers): a SEARCH draws every value published.
        expect(found.length, name).toBeGreaterThan(0);
      }
    }
    // Nothing else in the namespace: every line is a catalogue metric (or Powertools' own cold starts).
    for (const m of metrics.filter((l) => l.namespace === 'BucketBridge' && l.metricName !== POWERTOOLS_COLD_START.metricName)) {
      expect(Object.keys(METRIC_CATALOGUE)).toContain(m.metricName);
    }
    for (const s of searches) expect(Object.keys(METRIC_CATALOGUE)).toContain(s.filter.MetricName);
  });

  it('sums counts over five minutes and draws phase durations at p50 and p99', () => {
    for (const m of metrics.filter((l) => l.namespace === 'BucketBridge' && l.metricName !== 'PhaseDuration')) expect(m.stat, m.metricName).toBe('Sum');
    for (const s of searches) expect([s.stat, s.period], s.filter.MetricName).toEqual(['Sum', 300]);
    const phase = catalogueLines('PhaseDuration').lines;
    expect(sorted(new Set(phase.map((l) => l.stat!)))).toEqual(['p50', 'p99']);
    expect(phase).toHaveLength(ENUMERATED.Phase!.length * 2);
  });

  it('groups runs, objects through each phase, failures, result files, webhook outcomes and phase durations', () => {
    const byWidget = (widget: string) => [
      ...metrics.filter((m) => m.widget === widget).map((m) => m.metricName),
      ...searches.filter((s) => s.widget === widget).map((s) => s.filter.MetricName),
    ];
    const titles = dashboard!.widgets.map((w) => w.properties.title);
    const find = (re: RegExp) => titles.find((t) => t && re.test(t)) ?? `no widget matching ${re}`;
    expect(sorted(new Set(byWidget(find(/^Runs/))))).toEqual(['RunsCompleted', 'RunsFailed', 'RunsStarted']);
    expect(sorted(new Set(byWidget(find(/^Objects through/))))).toEqual(['ObjectsFailed', 'ObjectsListed', 'ObjectsSkipped', 'ObjectsSubmitted']);
    expect(byWidget(find(/by reason/))).toEqual(expect.arrayContaining(['ObjectsSkipped', 'ObjectsFailed', 'ResultFilesFailed']));
    expect(byWidget(find(/^Result files/))).toEqual(expect.arrayContaining(['ResultFilesCopied', 'ResultBytesCopied']));
    expect(byWidget(find(/^Webhook/))).toEqual(['WebhookOutcomes']);
    expect(sorted(new Set(byWidget(find(/^Phase durations/))))).toEqual(['PhaseDuration']);
  });

  it('charts the depth and oldest message of every queue and the dead letters of every dead-letter queue', () => {
    const queueLines = (metricName: string) =>
      metrics.filter((m) => m.namespace === 'AWS/SQS' && m.metricName === metricName && m.stat === 'Maximum').map((m) => m.dimensions.QueueName);
    const names = (dlq: boolean) =>
      Object.values(bridge.queues).map((q) => `<${logicalId(stack, dlq ? q.deadLetterQueue : q.queue)}.QueueName>`);
    expect(Object.keys(bridge.queues).length).toBeGreaterThanOrEqual(4);
    expect(sorted(queueLines('ApproximateNumberOfMessagesVisible'))).toEqual(sorted([...names(false), ...names(true)]));
    expect(sorted(queueLines('ApproximateAgeOfOldestMessage'))).toEqual(sorted(names(false)));
  });

  it('charts errors, throttles and p50/p99 durations of every function', () => {
    const fnRefs = sorted(Object.values(bridge.functions).map((fn) => `<Ref:${logicalId(stack, fn)}>`));
    expect(fnRefs.length).toBeGreaterThanOrEqual(6);
    const lambda = (metricName: string, stat: string) =>
      sorted(metrics.filter((m) => m.namespace === 'AWS/Lambda' && m.metricName === metricName && m.stat === stat).map((m) => m.dimensions.FunctionName!));
    expect(lambda('Errors', 'Sum')).toEqual(fnRefs);
    expect(lambda('Throttles', 'Sum')).toEqual(fnRefs);
    expect(lambda('Duration', 'p50')).toEqual(fnRefs);
    expect(lambda('Duration', 'p99')).toEqual(fnRefs);
  });

  it('charts the cold starts Powertools publishes, for every function (name and dimensions of a real Powertools line)', () => {
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    // Powertools counts a cold start only in an on-demand execution environment, as Lambda says.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    try {
      new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: 'svc' }).captureColdStartMetric('the-function');
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
    const emf = printed.map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } } & Record<string, unknown>);
    expect(emf).toHaveLength(1);
    const [directive] = emf[0]!._aws.CloudWatchMetrics;
    expect(directive!.Metrics.map((m) => m.Name)).toEqual([POWERTOOLS_COLD_START.metricName]);
    expect(sorted(directive!.Dimensions[0]!)).toEqual(sorted(['service', POWERTOOLS_COLD_START.functionDimension]));
    expect(emf[0]![POWERTOOLS_COLD_START.functionDimension]).toBe('the-function');

    const coldStarts = metrics.filter((m) => m.namespace === 'BucketBridge' && m.metricName === 'ColdStart');
    for (const m of coldStarts) expect(sorted(Object.keys(m.dimensions))).toEqual(['function_name', 'service']);
    expect(coldStarts.every((m) => m.dimensions.service === bridge.serviceName && m.stat === 'Sum')).toBe(true);
    expect(sorted(coldStarts.map((m) => m.dimensions.function_name!))).toEqual(sorted(Object.values(bridge.functions).map((fn) => `<Ref:${logicalId(stack, fn)}>`)));
  });

  it('shows the state of every alarm of the bridge', () => {
    const alarmWidget = dashboard!.widgets.find((w) => w.type === 'alarm');
    expect(sorted(alarmWidget?.properties.alarms ?? [])).toEqual(sorted(bridge.alarms.map((a) => `<${logicalId(stack, a)}.Arn>`)));
  });

  it('lays the widgets out on the 24-unit grid without overlaps', () => {
    const cells = new Set<string>();
    for (const w of dashboard!.widgets) {
      expect(w.x + w.width, w.properties.title).toBeLessThanOrEqual(24);
      for (let x = w.x; x < w.x + w.width; x++) {
        for (let y = w.y; y < w.y + w.height; y++) {
          expect(cells.has(`${x},${y}`), `${w.properties.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('covers a queue and a function added to a bridge without further code', () => {
    const s = new Stack(testApp(), 'Extra');
    const fn = (id: string) => new LambdaFunction(s, id, { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler=()=>{}') });
    const queue = (id: string) => ({ queue: new Queue(s, `${id}Queue`), deadLetterQueue: new Queue(s, `${id}Dlq`) });
    const observed = {
      serviceName: 'Extra-Bridge',
      targetName: 'extend',
      queues: { work: queue('Work'), partitions: queue('Partitions') },
      functions: { worker: fn('Worker'), partition: fn('Partition') },
    };
    const alarms = createBridgeAlarms(s, observed, { stuckAfter: { partitions: Duration.minutes(30) } });
    expect(sorted(alarms.map((a) => a.node.id))).toEqual(
      sorted(['workDlqAlarm', 'partitionsDlqAlarm', 'WorkerErrorsAlarm', 'PartitionErrorsAlarm', 'RunsFailedAlarm', 'ResultFilesFailedAlarm', 'partitionsStuckAlarm']),
    );
    createBridgeDashboard(s, 'Dashboard', { ...observed, alarms });
    const t = Template.fromStack(s);
    const charted = chartedSeries(dashboards(t)[0]!.widgets);
    const id = (c: { node: { defaultChild?: unknown } }) => s.getLogicalId(c.node.defaultChild as CfnResource);
    const ages = charted.metrics.filter((m) => m.metricName === 'ApproximateAgeOfOldestMessage').map((m) => m.dimensions.QueueName);
    expect(sorted(ages)).toEqual(sorted(Object.values(observed.queues).map((q) => `<${id(q.queue)}.QueueName>`)));
    const errors = charted.metrics.filter((m) => m.metricName === 'Errors').map((m) => m.dimensions.FunctionName);
    expect(sorted(errors)).toEqual(sorted(Object.values(observed.functions).map((f) => `<Ref:${id(f)}>`)));
    expect(charted.searches.every((q) => q.filter.service === 'Extra-Bridge' && q.filter.Target === 'extend')).toBe(true);
  });
});

describe('README "Dashboard and alarms"', () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Dashboard and alarms');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
  const quoted = [...section.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

  it('names every catalogue metric and dimension, and no metric the catalogue lacks but Powertools\' ColdStart', () => {
    expect(start).toBeGreaterThan(0);
    const catalogue = Object.keys(METRIC_CATALOGUE);
    for (const name of catalogue) expect(quoted, name).toContain(name);
    const dimensions = new Set(Object.values(METRIC_CATALOGUE).flatMap((m) => [...m.dimensions, 'service']));
    for (const d of dimensions) expect(quoted, d).toContain(d);
    const metricLike = quoted.filter((q) => /^[A-Z][a-z]+[A-Z][A-Za-z]+$/.test(q) && !q.endsWith('Alarm') && q !== METRICS_NAMESPACE && q !== POWERTOOLS_COLD_START.metricName);
    for (const q of metricLike) expect(catalogue, q).toContain(q);
    expect(quoted).toContain(POWERTOOLS_COLD_START.metricName);
    expect(quoted).toContain(POWERTOOLS_COLD_START.functionDimension);
  });

  it('lists the alarms the stack has, by construct id or id pattern', () => {
    const named = quoted.filter((q) => q.endsWith('Alarm'));
    const patterns = named.map((q) => new RegExp(`^${q.replace(/<[^>]+>/g, '[A-Za-z]+')}$`));
    const ids = bridge.alarms.map((a) => a.node.id);
    for (const id of ids) expect(patterns.some((p) => p.test(id)), id).toBe(true);
    for (const [i, p] of patterns.entries()) expect(ids.some((id) => p.test(id)), named[i]).toBe(true);
  });
});
