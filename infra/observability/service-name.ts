import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The deployment's service name: the value of every function's `POWERTOOLS_SERVICE_NAME`, hence of
 * the `service` dimension on every metric they publish, and what the dashboard and alarms select.
 * It is the name of the stack the bridge is in, so two stacks in one account and region chart and
 * alarm apart. (Two bridges in one stack would share it; the `Target` dimension still tells them
 * apart when their targets differ.)
 */
export function bridgeServiceName(construct: IConstruct): string {
  return Stack.of(construct).stackName;
}
