/**
 * Every metric the deployed functions publish, in CloudWatch embedded metric format under one
 * namespace. The dashboard and alarms (infra/) and the emitters (shared/, functions/) read the names,
 * units and dimensions from here, so a metric cannot be published under one name and charted under
 * another. Dimensions are low-cardinality on purpose (no run id: that goes in the log line as a
 * property, where it costs nothing).
 */
export const METRICS_NAMESPACE = 'BucketBridge';

/**
 * Powertools adds this dimension to every data point; its value is the deployment's service name
 * (`POWERTOOLS_SERVICE_NAME`, the same for every function of one stack), so two stacks in one
 * account chart apart.
 */
export const SERVICE_DIMENSION = 'service';

export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds';

export interface MetricDefinition {
  unit: MetricUnit;
  /** Dimension names (besides `service`), in the order they are published; every data point carries all of them. */
  dimensions: readonly string[];
  description: string;
}

export const METRIC_CATALOGUE = {
  RunsStarted: { unit: 'Count', dimensions: ['Target', 'Trigger'], description: 'runs created (Trigger: scheduled, object-created)' },
  RunsCompleted: { unit: 'Count', dimensions: ['Target'], description: 'runs that ended completed' },
  RunsFailed: { unit: 'Count', dimensions: ['Target'], description: 'runs that ended failed' },
  ObjectsListed: { unit: 'Count', dimensions: ['Target'], description: 'source objects read by discovery' },
  ObjectsSubmitted: { unit: 'Count', dimensions: ['Target'], description: 'objects handed to the target' },
  ObjectsSkipped: { unit: 'Count', dimensions: ['Target', 'Reason'], description: 'objects left out by discovery, by reason' },
  ObjectsFailed: { unit: 'Count', dimensions: ['Target', 'Stage'], description: 'objects the target or the export failed (Stage: ingest, export)' },
  ResultFilesCopied: { unit: 'Count', dimensions: ['Target'], description: 'result files written to the destination' },
  ResultBytesCopied: { unit: 'Bytes', dimensions: ['Target'], description: 'result bytes written to the destination' },
  ResultFilesFailed: { unit: 'Count', dimensions: ['Target'], description: 'result files that could not be copied' },
  WebhookOutcomes: { unit: 'Count', dimensions: ['Target', 'Outcome'], description: 'webhook deliveries by outcome (handled, duplicate, ignored, in-progress, rejected, failed)' },
  PhaseDuration: { unit: 'Milliseconds', dimensions: ['Target', 'Phase'], description: 'time a run spent in a phase (discovering, ingesting, processing, exporting)' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRIC_CATALOGUE;
