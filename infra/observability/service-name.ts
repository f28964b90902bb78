import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The deployment's service name: the value of every function's `POWERTOOLS_SERVICE_NAME`, hence of
 * the `service` dimension on every metric they publish, and what the dashboard and alarms select.
 * Made of the stack name and the construct's path inside the stack (`BucketBridge-Bridge` for the
 * CDK app here), so two bridges in one account and region chart and alarm apart. Characters outside
 * `[A-Za-z0-9_-]` become `-` (the value also names the dashboard).
 */
export function bridgeServiceName(construct: IConstruct): string {
  const stack = Stack.of(construct);
  // A nested stack's name is only known at deploy time; its path in the app is unique too.
  const stackPart = Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName;
  const inside = construct.node.scopes.slice(stack.node.scopes.length).map((scope) => scope.node.id);
  return [stackPart, ...inside].join('-').replace(/[^A-Za-z0-9_-]/g, '-');
}
