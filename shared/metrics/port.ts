import type { METRIC_CATALOGUE, MetricName } from './catalogue';

/** The dimensions a metric is published with (names from the catalogue), each with its value. */
export type DimensionsOf<N extends MetricName> = Record<(typeof METRIC_CATALOGUE)[N]['dimensions'][number], string>;

/**
 * Metrics port: the use cases count what happens, an adapter publishes it (deployed: CloudWatch
 * embedded metric format; the CLI publishes nothing). Names, units and dimensions come from the
 * catalogue; the run id travels with the data point as a property, never as a dimension.
 */
export interface Metrics {
  add<N extends MetricName>(name: N, value: number, dimensions: DimensionsOf<N>, runId?: string): void;
}

export const noMetrics: Metrics = { add() {} };
