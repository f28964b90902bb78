import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { BridgeConfigInput } from '../shared/config/bridge-config';
import { SERVICE_NAME } from '../shared/config/target-config';
import { BucketBridge } from './bucket-bridge';

export interface BridgeStackProps extends StackProps {
  readonly config: BridgeConfigInput;
  readonly apiKeySecret?: ISecret;
  /** Complete ARN of an existing secret holding the target's API key (used when `apiKeySecret` is not given). */
  readonly apiKeySecretArn?: string;
  /** @deprecated the name of `apiKeySecretArn` before other targets existed; still read. */
  readonly roboflowApiKeySecretArn?: string;
  /** @deprecated the name of `apiKeySecret` before other targets existed; still read. */
  readonly roboflowApiKeySecret?: ISecret;
  readonly signingSecret?: ISecret;
  /** Extend: complete ARN of an existing secret holding the webhook signing secret (used when `signingSecret` is not given). */
  readonly signingSecretArn?: string;
  readonly logRetention?: RetentionDays;
  readonly alarmTopic?: ITopic;
  /** See `BucketBridgeProps.webhookReservedConcurrency`. @default 10 */
  readonly webhookReservedConcurrency?: number | false;
}

/** A stack holding one `BucketBridge`, with the values an operator needs as outputs. */
export class BridgeStack extends Stack {
  readonly bridge: BucketBridge;

  constructor(scope: Construct, id: string, props: BridgeStackProps) {
    const { config, apiKeySecret, apiKeySecretArn, roboflowApiKeySecret, roboflowApiKeySecretArn, signingSecret, signingSecretArn, logRetention, alarmTopic, webhookReservedConcurrency, ...stackProps } = props;
    super(scope, id, { description: 'bucket-bridge: bucket objects to a hosted batch API and back', ...stackProps });
    const existing = (id: string, arn?: string) => (arn ? Secret.fromSecretCompleteArn(this, id, arn) : undefined);
    this.bridge = new BucketBridge(this, 'Bridge', {
      config,
      apiKeySecret: apiKeySecret ?? roboflowApiKeySecret ?? existing('ApiKey', apiKeySecretArn ?? roboflowApiKeySecretArn),
      signingSecret: signingSecret ?? existing('SigningSecret', signingSecretArn),
      logRetention,
      alarmTopic,
      webhookReservedConcurrency,
    });
    const service = SERVICE_NAME[this.bridge.config.target.name];

    new CfnOutput(this, 'WebhookUrl', {
      description: 'Base URL of the webhook receiver (the secret path token is appended by the functions)',
      value: this.bridge.webhookUrl.url,
    });
    new CfnOutput(this, 'ApiKeySecretName', {
      description: this.bridge.createdApiKeySecret
        ? `Secret created with a placeholder: put your ${service} API key in it (the whole SecretString)`
        : `Secret holding the ${service} API key`,
      value: this.bridge.apiKeySecret.secretName,
    });
    if (this.bridge.signingSecret && this.bridge.config.target.name === 'extend') {
      new CfnOutput(this, 'SigningSecretName', {
        description: this.bridge.createdSigningSecret
          ? 'Secret created with a placeholder: put the signing secret of your Extend webhook endpoint in it'
          : 'Secret holding the signing secret of the Extend webhook endpoint',
        value: this.bridge.signingSecret.secretName,
      });
    }
    new CfnOutput(this, 'WebhookSecretName', {
      description: 'Secret holding the webhook path token (generated at deploy)',
      value: this.bridge.webhookSecret.secretName,
    });
    new CfnOutput(this, 'StateTableName', { value: this.bridge.table.tableName });
  }
}
