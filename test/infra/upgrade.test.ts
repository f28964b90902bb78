import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { bridgeServiceName } from '../../infra/observability/service-name';
import { synthStack } from './fixtures';

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string }>;

/**
 * Logical ids in the template of a stack deployed before the dashboard (commit 1da96a5, synthesised
 * by these fixtures). A changed logical id would make CloudFormation create a new resource and drop
 * the old one: the state table (retained, but orphaned), queued messages, secrets' values.
 */
const STATEFUL_BEFORE = {
  'AWS::DynamoDB::Table': ['BridgeStateTableC9553CE0'],
  'AWS::SecretsManager::Secret': ['BridgeRoboflowApiKey0CDEC856', 'BridgeWebhookSecret851B5A9B'],
  'AWS::SQS::Queue': [
    'BridgeSubmissionsDlqC882C39D', 'BridgeSubmissionsQueueD31A4B48',
    'BridgeObjectEventsDlqB66CEECC', 'BridgeObjectEventsQueueFA7B031B',
    'BridgeStartJobDlqF66BC9D6', 'BridgeStartJobQueue79DF6CB7',
    'BridgeExportDlq80A5FB11', 'BridgeExportQueueCC28CF9A',
  ],
  'AWS::Logs::LogGroup': [
    'BridgeScheduledRunLogGroupBE630C6E', 'BridgeContinueSubmissionLogGroupF3186095', 'BridgeObjectCreatedLogGroup3BD5BE1B',
    'BridgeWebhookLogGroupD29FC907', 'BridgeStartJobLogGroup67F81CCB', 'BridgeExportLogGroup0913F89D',
  ],
  'AWS::Lambda::Url': ['BridgeWebhookFunctionUrlAFA48C69'],
};

/** The alarms such a stack had (their names and SNS subscriptions by alarm ARN stay when updated in place). */
const ALARMS_BEFORE = [
  'BridgesubmissionsDlqAlarm993EFD59', 'BridgeobjectEventsDlqAlarm538FB0D8', 'BridgestartJobDlqAlarm34A32ACC', 'BridgeexportDlqAlarm9786D055',
  'BridgeScheduledRunErrorsAlarmA038AFE1', 'BridgeContinueSubmissionErrorsAlarm22BC2C5E', 'BridgeObjectCreatedErrorsAlarm1024835F',
  'BridgeWebhookErrorsAlarm78F3F4FB', 'BridgeStartJobErrorsAlarm10AC6C98', 'BridgeExportErrorsAlarmCB24847B',
  'BridgeRunsFailedAlarm30291344', 'BridgestartJobStuckAlarm48388055', 'BridgeexportStuckAlarmC6F269CA',
];

describe('upgrading a deployed stack', () => {
  it('keeps the logical ids of the state table, queues, secrets, log groups and webhook URL', () => {
    for (const [type, ids] of Object.entries(STATEFUL_BEFORE)) {
      for (const id of ids) expect(resources[id]?.Type, id).toBe(type);
    }
  });

  it('keeps every alarm under its logical id (updated in place), adds the ResultFilesFailed alarm and the dashboard', () => {
    for (const id of ALARMS_BEFORE) expect(resources[id]?.Type, id).toBe('AWS::CloudWatch::Alarm');
    const added = Object.entries(resources)
      .filter(([id, r]) => (r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::Dashboard') && !ALARMS_BEFORE.includes(id))
      .map(([id, r]) => `${r.Type} ${id.replace(/[0-9A-F]{8}$/, '')}`);
    // Queues and functions added since (fan-out) bring their own DLQ and errors alarms.
    const expected = ['AWS::CloudWatch::Alarm BridgeResultFilesFailedAlarm', 'AWS::CloudWatch::Dashboard BridgeDashboard'];
    expect(added.filter((a) => !/DlqAlarm$|ErrorsAlarm$/.test(a)).sort()).toEqual(expected.sort());
  });

  it('removes only the six RunsFailed log metric filters (their alarm now reads the RunsFailed metric)', () => {
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::Logs::MetricFilter')).toEqual([]);
  });
});

describe('service name', () => {
  it('is the name of the stack the bridge is in (the deployed name when one is given)', () => {
    const { stack } = synthStack();
    expect(stack.bridge.serviceName).toBe('BridgeTest');
    const named = new Stack(new App(), 'Id', { stackName: 'prod-bridge' });
    expect(bridgeServiceName(new Construct(new Construct(named, 'Team'), 'Bridge'))).toBe('prod-bridge');
  });
});
