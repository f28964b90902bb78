import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_CATALOGUE, METRICS_NAMESPACE, SERVICE_DIMENSION, type MetricName } from '../../shared/metrics/catalogue';
import { FileFailure, RunPhase } from '../../shared/state/run-record';
import type { ObservedBridge } from './observed-bridge';

/** Set to the configured target's name on the catalogue metrics that have it (all of them today). */
export const TARGET_DIMENSION = 'Target';

export const DEFAULT_PERIOD = Duration.minutes(5);

/**
 * Dimensions whose every value the code names at run time: one line per value. The others (skip
 * reasons, webhook outcomes, run triggers) are charted with a SEARCH, which finds whatever values
 * were published, so a value added in the functions shows up without a change here.
 */
export const KNOWN_DIMENSION_VALUES: Readonly<Record<string, readonly string[]>> = {
  // A run's time in each phase it goes through; it ends in one of the other two.
  Phase: RunPhase.options.filter((phase) => phase !== 'completed' && phase !== 'failed'),
  Stage: FileFailure.shape.stage.options,
};

type Deployment = Pick<ObservedBridge, 'serviceName' | 'targetName'>;

export interface SeriesOptions {
  /** @default Sum (counts and bytes), p50 (durations) */
  readonly statistic?: string;
  /** @default five minutes */
  readonly period?: Duration;
}

const statisticOf = (name: MetricName, options: SeriesOptions) =>
  options.statistic ?? (METRIC_CATALOGUE[name].unit === 'Milliseconds' ? 'p50' : 'Sum');

/** `Target` with the configured target's name, for the metrics published with it. */
function targetOf(deployment: Deployment, name: MetricName): Record<string, string> {
  const dimensions: readonly string[] = METRIC_CATALOGUE[name].dimensions;
  return dimensions.includes(TARGET_DIMENSION) ? { [TARGET_DIMENSION]: deployment.targetName } : {};
}

/** The dimensions of a catalogue metric that vary within one deployment (all but `Target`). */
export function varyingDimensions(name: MetricName): readonly string[] {
  const dimensions: readonly string[] = METRIC_CATALOGUE[name].dimensions;
  return dimensions.filter((d) => d !== TARGET_DIMENSION);
}

/** One series of a catalogue metric of this deployment: `values` gives every dimension besides `service` and `Target`. */
export function catalogueMetric(deployment: Deployment, name: MetricName, values: Readonly<Record<string, string>> = {}, options: SeriesOptions = {}): Metric {
  const varying = varyingDimensions(name);
  const given = Object.keys(values);
  if (given.length !== varying.length || !varying.every((d) => given.includes(d))) {
    throw new Error(`metric ${name}: expected values for [${varying.join(', ')}], got [${given.join(', ')}]`);
  }
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { [SERVICE_DIMENSION]: deployment.serviceName, ...targetOf(deployment, name), ...values },
    statistic: statisticOf(name, options),
    period: options.period ?? DEFAULT_PERIOD,
  });
}

/** A graph's label: the metric, the values that tell its lines apart, and a statistic other than Sum. */
function label(name: MetricName, values: string, options: SeriesOptions): string {
  const statistic = statisticOf(name, options);
  return [name, values, statistic === 'Sum' ? '' : statistic].filter(Boolean).join(' ');
}

/** The SEARCH expression finding every series of a catalogue metric of this deployment (all values of its varying dimensions). */
export function catalogueSearch(deployment: Deployment, name: MetricName, options: SeriesOptions = {}): string {
  const schema = [METRICS_NAMESPACE, ...METRIC_CATALOGUE[name].dimensions, SERVICE_DIMENSION].join(',');
  const fixed = { [SERVICE_DIMENSION]: deployment.serviceName, ...targetOf(deployment, name) };
  const filter = [`MetricName="${name}"`, ...Object.entries(fixed).map(([d, v]) => `${d}="${v}"`)].join(' ');
  const period = (options.period ?? DEFAULT_PERIOD).toSeconds();
  return `SEARCH('{${schema}} ${filter}', '${statisticOf(name, options)}', ${period})`;
}

/**
 * Every series of a catalogue metric for this deployment: a single one when nothing varies, one per
 * known value of its varying dimension, otherwise one SEARCH (a line per value published).
 */
export function catalogueSeries(deployment: Deployment, name: MetricName, options: SeriesOptions = {}): IMetric[] {
  const varying = varyingDimensions(name);
  if (varying.length === 0) return [catalogueMetric(deployment, name, {}, options).with({ label: label(name, '', options) })];
  const known = varying.length === 1 ? KNOWN_DIMENSION_VALUES[varying[0]!] : undefined;
  if (known) {
    return known.map((value) => catalogueMetric(deployment, name, { [varying[0]!]: value }, options).with({ label: label(name, value, options) }));
  }
  return [
    new MathExpression({
      expression: catalogueSearch(deployment, name, options),
      usingMetrics: {},
      // A dynamic label: each line is named by its dimension values.
      label: label(name, varying.map((d) => `\${PROP('Dim.${d}')}`).join(' '), options),
      period: options.period ?? DEFAULT_PERIOD,
    }),
  ];
}

/** One line: the sum of a catalogue count over all values of its varying dimensions. */
export function catalogueTotal(deployment: Deployment, name: MetricName, options: SeriesOptions = {}): IMetric {
  if (varyingDimensions(name).length === 0) return catalogueMetric(deployment, name, {}, options).with({ label: label(name, '', options) });
  return new MathExpression({
    expression: `SUM(${catalogueSearch(deployment, name, options)})`,
    usingMetrics: {},
    label: `${name} (all)`,
    period: options.period ?? DEFAULT_PERIOD,
  });
}
