import { Stack } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { logicalId, synthStack, testApp } from './fixtures';

const { stack, template } = synthStack();
const bridge = stack.bridge;
const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
const queueNameOf = (q: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(stack, q), 'QueueName'] });
const byName = (dims: Array<{ Name: string; Value: unknown }>) => [...dims].sort((a, b) => (a.Name < b.Name ? -1 : 1));

describe('alarms', () => {
  it('alarms on every dead-letter queue', () => {
    expect(Object.keys(bridge.queues).length).toBeGreaterThanOrEqual(4);
    for (const [name, { deadLetterQueue }] of Object.entries(bridge.queues)) {
      expect(alarms, name).toContainEqual(
        expect.objectContaining({
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Namespace: 'AWS/SQS',
          Dimensions: [{ Name: 'QueueName', Value: queueNameOf(deadLetterQueue) }],
          Statistic: 'Maximum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
    }
  });

  it('alarms on errors of every function over five minutes', () => {
    expect(Object.keys(bridge.functions).length).toBeGreaterThanOrEqual(6);
    for (const [name, fn] of Object.entries(bridge.functions)) {
      expect(alarms, name).toContainEqual(
        expect.objectContaining({
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, fn) } }],
          Period: 300,
          Statistic: 'Sum',
          Threshold: 1,
        }),
      );
    }
  });

  it('alarms on the RunsFailed metric this deployment publishes (its service and target), not on a log filter', () => {
    const runsFailed = alarms.filter((a) => a.MetricName === 'RunsFailed');
    expect(runsFailed).toHaveLength(1);
    expect(runsFailed[0]).toEqual(
      expect.objectContaining({ Namespace: 'BucketBridge', Period: 300, Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' }),
    );
    expect(byName(runsFailed[0].Dimensions)).toEqual([
      { Name: 'Target', Value: 'roboflow' },
      { Name: 'service', Value: bridge.serviceName },
    ]);
    // The log metric filters published RunsFailed without dimensions (every stack of the region as one).
    template.resourceCountIs('AWS::Logs::MetricFilter', 0);
  });

  it('alarms when a result file could not be copied (ResultFilesFailed), which a completed run does not show', () => {
    const resultFiles = alarms.filter((a) => a.MetricName === 'ResultFilesFailed');
    expect(resultFiles).toHaveLength(1);
    expect(resultFiles[0]).toEqual(expect.objectContaining({ Namespace: 'BucketBridge', Period: 300, Statistic: 'Sum', Threshold: 1 }));
    expect(byName(resultFiles[0].Dimensions)).toEqual([
      { Name: 'Target', Value: 'roboflow' },
      { Name: 'service', Value: bridge.serviceName },
    ]);
  });

  it('alarms when a start-job or export message waits over an hour (stuck run)', () => {
    const stuck = alarms.filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(stuck).toHaveLength(2);
    for (const q of ['startJob', 'export'] as const) {
      expect(stuck, q).toContainEqual(
        expect.objectContaining({
          Dimensions: [{ Name: 'QueueName', Value: queueNameOf(bridge.queues[q].queue) }],
          Statistic: 'Maximum',
          Threshold: 3600,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
    }
  });

  it('has exactly these alarms, each naming the deployment, without actions by default', () => {
    const queues = Object.keys(bridge.queues).length;
    const functions = Object.keys(bridge.functions).length;
    expect(alarms).toHaveLength(queues + functions + 2 + 2);
    expect(bridge.alarms).toHaveLength(alarms.length);
    for (const a of alarms) {
      expect(a.AlarmActions).toBeUndefined();
      expect(a.AlarmDescription).toContain(`bucket-bridge (${bridge.serviceName}): `);
      expect(a.EvaluationPeriods).toBe(1);
    }
  });

  it('notifies the alarm topic when one is given', () => {
    const app = testApp();
    const topicStack = new Stack(app, 'Topics');
    const topic = new Topic(topicStack, 'Alarms');
    const { template: t } = synthStack({ alarmTopic: topic }, app);
    const withTopic = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(withTopic).toHaveLength(alarms.length);
    for (const a of withTopic) expect(a.Properties.AlarmActions).toHaveLength(1);
  });
});
