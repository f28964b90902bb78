import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { BridgeConfigInput } from '../shared/config/bridge-config';
import { BucketBridge } from './bucket-bridge';

export interface BridgeStackProps extends StackProps {
  readonly config: BridgeConfigInput;
  readonly roboflowApiKeySecret?: ISecret;
  /** Complete ARN of an existing secret holding the Roboflow key (used when `roboflowApiKeySecret` is not given). */
  readonly roboflowApiKeySecretArn?: string;
  readonly logRetention?: RetentionDays;
  readonly alarmTopic?: ITopic;
}

/** A stack holding one `BucketBridge`, with the values an operator needs as outputs. */
export class BridgeStack extends Stack {
  readonly bridge: BucketBridge;

  constructor(scope: Construct, id: string, props: BridgeStackProps) {
    const { config, roboflowApiKeySecret: givenSecret, roboflowApiKeySecretArn, logRetention, alarmTopic, ...stackProps } = props;
    super(scope, id, { description: 'bucket-bridge: bucket objects to Roboflow Batch Processing and back', ...stackProps });
    const roboflowApiKeySecret =
      givenSecret ??
      (roboflowApiKeySecretArn ? Secret.fromSecretCompleteArn(this, 'RoboflowApiKey', roboflowApiKeySecretArn) : undefined);
    this.bridge = new BucketBridge(this, 'Bridge', { config, roboflowApiKeySecret, logRetention, alarmTopic });

    new CfnOutput(this, 'WebhookUrl', {
      description: 'Base URL of the webhook receiver (the secret path token is appended by the functions)',
      value: this.bridge.webhookUrl.url,
    });
    new CfnOutput(this, 'RoboflowApiKeySecretName', {
      description: this.bridge.createdRoboflowApiKeySecret
        ? 'Secret created with a placeholder: put your Roboflow private API key in it (the whole SecretString)'
        : 'Secret holding the Roboflow private API key',
      value: this.bridge.roboflowApiKeySecret.secretName,
    });
    new CfnOutput(this, 'WebhookSecretName', {
      description: 'Secret holding the webhook path token (generated at deploy)',
      value: this.bridge.webhookSecret.secretName,
    });
    new CfnOutput(this, 'StateTableName', { value: this.bridge.table.tableName });
  }
}
