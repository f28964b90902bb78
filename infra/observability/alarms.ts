import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { catalogueMetric } from './catalogue-metrics';
import type { ObservedBridge } from './observed-bridge';

export interface BridgeAlarmsOptions<Q extends string> {
  /** Where the alarms notify (alarm state only). @default no alarm actions */
  readonly topic?: ITopic;
  /**
   * Queues whose messages move runs on after the target's work: a message that waited this long
   * means a run is stuck. The others feed listing and debouncing, whose messages may legitimately
   * be delayed or wait out a long visibility timeout; their dead-letter alarm catches failures.
   */
  readonly stuckAfter: Readonly<Partial<Record<Q, Duration>>>;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The bridge's alarms, each `≥ threshold` over one 5-minute period, missing data not breaching:
 * - `<queue>DlqAlarm`: a message in a dead-letter queue (every queue);
 * - `<Function>ErrorsAlarm`: a function error (every function);
 * - `RunsFailedAlarm`: a run ended failed (the `RunsFailed` metric of this deployment);
 * - `ResultFilesFailedAlarm`: a result file could not be copied (its run may still complete);
 * - `<queue>StuckAlarm`: the oldest message of a queue in `stuckAfter` is older than its limit.
 * They are created in `scope` (the bridge construct) under the ids a deployed stack already has,
 * so an upgrade updates them in place.
 */
export function createBridgeAlarms<Q extends string>(
  scope: Construct,
  bridge: ObservedBridge & { readonly queues: Readonly<Record<Q, ObservedBridge['queues'][string]>> },
  options: BridgeAlarmsOptions<Q>,
): Alarm[] {
  const alarms: Alarm[] = [];
  const alarm = (id: string, description: string, metric: IMetric, threshold: number) => {
    const created = new Alarm(scope, id, {
      alarmDescription: `bucket-bridge (${bridge.serviceName}): ${description}`,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (options.topic) created.addAlarmAction(new SnsAction(options.topic));
    alarms.push(created);
  };

  for (const [name, { deadLetterQueue }] of Object.entries(bridge.queues) as Array<[Q, ObservedBridge['queues'][string]]>) {
    alarm(`${name}DlqAlarm`, `messages in the ${name} dead-letter queue`,
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }), 1);
  }
  for (const [name, fn] of Object.entries(bridge.functions)) {
    alarm(`${fn.node.id}ErrorsAlarm`, `${name} function errors`, fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 1);
  }
  alarm('RunsFailedAlarm', 'a run failed (RunsFailed metric)', catalogueMetric(bridge, 'RunsFailed', {}, { period: FIVE_MINUTES }), 1);
  alarm('ResultFilesFailedAlarm', 'a result file could not be copied to the destination (ResultFilesFailed metric)',
    catalogueMetric(bridge, 'ResultFilesFailed', {}, { period: FIVE_MINUTES }), 1);
  for (const [name, limit] of Object.entries(options.stuckAfter) as Array<[Q, Duration]>) {
    alarm(`${name}StuckAlarm`, `a ${name} message has waited over ${limit.toHumanString()} (stuck run)`,
      bridge.queues[name].queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }), limit.toSeconds());
  }
  return alarms;
}
