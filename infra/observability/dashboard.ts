import { Stack } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  TextWidget,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRIC_CATALOGUE, type MetricName } from '../../shared/metrics/catalogue';
import { DEFAULT_PERIOD, catalogueSeries, catalogueTotal } from './catalogue-metrics';
import { coldStartMetric } from './cold-start-metric';
import type { ObservedBridgeWithAlarms } from './observed-bridge';

/** A line (or a line per dimension value) of a catalogue metric. */
interface Line {
  readonly metric: MetricName;
  /** `total`: one line summed over the varying dimensions; otherwise a line per value. */
  readonly total?: boolean;
  readonly statistic?: string;
}

interface Panel {
  readonly title: string;
  readonly left: readonly Line[];
  readonly right?: readonly Line[];
}

/** The catalogue metrics, grouped into graphs; a metric in none of them gets a graph of its own. */
const CATALOGUE_PANELS: readonly Panel[] = [
  { title: 'Runs started (by trigger), completed, failed', left: [{ metric: 'RunsStarted' }, { metric: 'RunsCompleted' }, { metric: 'RunsFailed' }] },
  {
    title: 'Objects through each phase',
    left: [{ metric: 'ObjectsListed' }, { metric: 'ObjectsSubmitted' }, { metric: 'ObjectsSkipped', total: true }, { metric: 'ObjectsFailed', total: true }],
  },
  {
    title: 'Skipped objects by reason, failures by stage',
    left: [{ metric: 'ObjectsSkipped' }, { metric: 'ObjectsFailed' }, { metric: 'ResultFilesFailed' }],
  },
  { title: 'Result files and bytes copied', left: [{ metric: 'ResultFilesCopied' }, { metric: 'ResultFilesFailed' }], right: [{ metric: 'ResultBytesCopied' }] },
  { title: 'Webhook deliveries by outcome', left: [{ metric: 'WebhookOutcomes' }] },
  { title: 'Phase durations (p50, p99)', left: [{ metric: 'PhaseDuration', statistic: 'p50' }, { metric: 'PhaseDuration', statistic: 'p99' }] },
];

const UNIT_LABEL = { Count: 'count', Bytes: 'bytes', Milliseconds: 'ms' } as const;

/**
 * The bridge's CloudWatch dashboard: the alarms' states; runs, objects, failures, result files,
 * webhook outcomes and phase durations from the metric catalogue (this deployment's `service` and
 * `Target`); depth, oldest message and dead letters of every queue; errors, throttles, cold
 * starts and durations (p50, p99) of every function.
 */
export function createBridgeDashboard(scope: Construct, id: string, bridge: ObservedBridgeWithAlarms): Dashboard {
  const stack = Stack.of(scope);
  // Dashboards are global to the account: the region keeps one stack's deployments in two regions
  // apart, the construct's path two bridges in one stack.
  const path = scope.node.scopes.slice(stack.node.scopes.length).map((c) => c.node.id).join('-').replace(/[^A-Za-z0-9_-]/g, '-');
  const dashboard = new Dashboard(scope, id, { dashboardName: [stack.stackName, path, stack.region].filter(Boolean).join('-') });

  dashboard.addWidgets(
    new TextWidget({
      markdown: [
        `# bucket-bridge \`${bridge.serviceName}\``,
        `Target \`${bridge.targetName}\`. Catalogue metrics: namespace \`BucketBridge\`, dimensions \`service=${bridge.serviceName}\`, \`Target=${bridge.targetName}\`; five-minute sums unless a title says otherwise.`,
      ].join('\n\n'),
      width: 8,
      height: 6,
    }),
    new AlarmStatusWidget({ title: 'Alarms', alarms: [...bridge.alarms], width: 16, height: 6 }),
  );

  const charted = new Set(CATALOGUE_PANELS.flatMap((p) => [...p.left, ...(p.right ?? [])].map((l) => l.metric)));
  const uncharted = (Object.keys(METRIC_CATALOGUE) as MetricName[]).filter((name) => !charted.has(name));
  const panels: Panel[] = [...CATALOGUE_PANELS, ...uncharted.map((metric) => ({ title: metric, left: [{ metric }] }))];
  const lines = (ls: readonly Line[] = []): IMetric[] =>
    ls.flatMap((l) => (l.total ? [catalogueTotal(bridge, l.metric, { statistic: l.statistic })] : catalogueSeries(bridge, l.metric, { statistic: l.statistic })));
  const axis = (ls: readonly Line[]) => ({ label: UNIT_LABEL[METRIC_CATALOGUE[ls[0]!.metric].unit], min: 0 });
  const graphs = panels.map(
    (p) =>
      new GraphWidget({
        title: p.title,
        left: lines(p.left),
        right: lines(p.right),
        leftYAxis: axis(p.left),
        rightYAxis: p.right ? axis(p.right) : undefined,
        width: 8,
        height: 6,
      }),
  );
  for (let i = 0; i < graphs.length; i += 3) dashboard.addWidgets(...graphs.slice(i, i + 3));

  const queues = Object.entries(bridge.queues);
  const queueGraph = (title: string, metric: (name: string, q: (typeof queues)[number][1]) => IMetric, label: string) =>
    new GraphWidget({ title, left: queues.map(([name, q]) => metric(name, q)), leftYAxis: { label, min: 0 }, width: 8, height: 6 });
  const maximum = (label: string) => ({ statistic: 'Maximum', period: DEFAULT_PERIOD, label });
  dashboard.addWidgets(
    queueGraph('Queue depth (visible messages)', (name, q) => q.queue.metricApproximateNumberOfMessagesVisible(maximum(name)), 'messages'),
    queueGraph('Oldest message age', (name, q) => q.queue.metricApproximateAgeOfOldestMessage(maximum(name)), 'seconds'),
    queueGraph('Dead letters (messages in each dead-letter queue)', (name, q) => q.deadLetterQueue.metricApproximateNumberOfMessagesVisible(maximum(`${name} DLQ`)), 'messages'),
  );

  const functions = Object.entries(bridge.functions);
  const functionGraph = (title: string, label: string, width: number, metric: (fn: (typeof functions)[number][1], name: string) => IMetric) =>
    new GraphWidget({ title, left: functions.map(([name, fn]) => metric(fn, name)), leftYAxis: { label, min: 0 }, width, height: 6 });
  dashboard.addWidgets(
    functionGraph('Function errors', 'count', 8, (fn, label) => fn.metricErrors({ statistic: 'Sum', period: DEFAULT_PERIOD, label })),
    functionGraph('Function throttles', 'count', 8, (fn, label) => fn.metricThrottles({ statistic: 'Sum', period: DEFAULT_PERIOD, label })),
    functionGraph('Cold starts (Powertools ColdStart)', 'count', 8, (fn, label) => coldStartMetric(bridge.serviceName, fn, label)),
  );
  dashboard.addWidgets(
    functionGraph('Function duration p50', 'ms', 12, (fn, label) => fn.metricDuration({ statistic: 'p50', period: DEFAULT_PERIOD, label })),
    functionGraph('Function duration p99', 'ms', 12, (fn, label) => fn.metricDuration({ statistic: 'p99', period: DEFAULT_PERIOD, label })),
  );
  return dashboard;
}
