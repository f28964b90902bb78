import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';

/**
 * What the dashboard and the alarms look at: every queue and function of one bridge (whatever
 * their number: a queue or function added to the construct is charted and alarmed without
 * further code), and the dimension values its metrics are published under.
 */
export interface ObservedBridge {
  /** `POWERTOOLS_SERVICE_NAME` of every function (`bridgeServiceName`). */
  readonly serviceName: string;
  /** The configured target's name: the `Target` dimension of every catalogue metric. */
  readonly targetName: string;
  /** Work queues by name, each with its dead-letter queue. */
  readonly queues: Readonly<Record<string, { readonly queue: IQueue; readonly deadLetterQueue: IQueue }>>;
  /** Functions by name. */
  readonly functions: Readonly<Record<string, IFunction>>;
}

export interface ObservedBridgeWithAlarms extends ObservedBridge {
  readonly alarms: readonly IAlarm[];
}
