import type { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { METRIC_CATALOGUE, type MetricName } from '../metrics/catalogue';
import type { DimensionsOf, Metrics } from '../metrics/port';

/** Data points sharing their dimension values and run id: one EMF blob. */
interface Group {
  dimensions: Record<string, string>;
  runId?: string;
  values: Map<MetricName, number[]>;
}

/**
 * The metrics port on Powertools Metrics (CloudWatch embedded metric format on stdout). Data
 * points are kept until `flush` (the end of the invocation), then printed one EMF line per set of
 * dimension values and run id, so each data point carries exactly the `service` dimension plus
 * its catalogue dimensions, and the run id as a property. Counts and bytes of one line are summed.
 */
export class EmfMetrics implements Metrics {
  readonly #groups = new Map<string, Group>();

  constructor(private readonly powertools: PowertoolsMetrics) {}

  add<N extends MetricName>(name: N, value: number, dimensions: DimensionsOf<N>, runId?: string): void {
    const given = dimensions as Record<string, string>;
    // The catalogue's order, whatever the caller's.
    const ordered = Object.fromEntries(METRIC_CATALOGUE[name].dimensions.map((d: string) => [d, given[d] ?? '']));
    const key = JSON.stringify([ordered, runId ?? null]);
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, (group = { dimensions: ordered, runId, values: new Map() }));
    const values = group.values.get(name) ?? [];
    if (METRIC_CATALOGUE[name].unit === 'Milliseconds' || values.length === 0) values.push(value);
    else values[0]! += value;
    group.values.set(name, values);
  }

  /** Prints what was added since the last flush. */
  flush(): void {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) {
      this.powertools.addDimensions(group.dimensions);
      if (group.runId) this.powertools.addMetadata('runId', group.runId);
      for (const [name, values] of group.values) {
        for (const value of values) this.powertools.addMetric(name, METRIC_CATALOGUE[name].unit, value);
      }
      this.powertools.publishStoredMetrics();
    }
  }

  /** Powertools' `ColdStart` metric (dimensions `service` and `function_name`), on a container's first invocation only. */
  coldStart(functionName: string | undefined): void {
    this.powertools.captureColdStartMetric(functionName);
  }
}
