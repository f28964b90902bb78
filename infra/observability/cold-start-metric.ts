import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { METRICS_NAMESPACE, SERVICE_DIMENSION } from '../../shared/metrics/catalogue';
import { DEFAULT_PERIOD } from './catalogue-metrics';

/**
 * The cold-start count Powertools Metrics publishes itself (`captureColdStartMetric`), outside the
 * catalogue: its name and the dimension it adds are Powertools' constants (not exported by the
 * package), besides the `service` dimension of every data point.
 */
export const POWERTOOLS_COLD_START = { metricName: 'ColdStart', functionDimension: 'function_name' } as const;

/** Cold starts of one function of this deployment (its Lambda name is the `function_name` value). */
export function coldStartMetric(serviceName: string, fn: IFunction, label: string): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: POWERTOOLS_COLD_START.metricName,
    dimensionsMap: { [SERVICE_DIMENSION]: serviceName, [POWERTOOLS_COLD_START.functionDimension]: fn.functionName },
    statistic: 'Sum',
    period: DEFAULT_PERIOD,
    label,
  });
}
