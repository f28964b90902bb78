import { App, Validations } from 'aws-cdk-lib';
import type { BridgeConfigInput } from '../shared/config/bridge-config';
import { BridgeStack } from './bridge-stack';

/**
 * CDK app: `npx cdk synth` / `npx cdk deploy`. The bridge's configuration is the `bucketBridge`
 * context value (cdk.json, or `-c bucketBridge='{...}'`); the construct validates it. An existing
 * secret holding the target's API key can be used with
 * `-c apiKeySecretArn=arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>`, and for
 * Extend an existing signing secret with `-c signingSecretArn=...`.
 * `-c webhookReservedConcurrency=20` changes the concurrency reserved for the webhook function
 * (default 10; `false`: none).
 * `-c nag=true` runs the cdk-nag AwsSolutions checks (a dev dependency) during synthesis.
 */
const app = new App();

const raw: unknown = app.node.tryGetContext('bucketBridge');
if (raw === undefined) throw new Error('bucket-bridge: missing the "bucketBridge" context value (see cdk.json)');
// `-c bucketBridge='{...}'` arrives as a string; cdk.json gives an object.
const config = (typeof raw === 'string' ? JSON.parse(raw) : raw) as BridgeConfigInput;
const contextArn = (name: string) => {
  const value: unknown = app.node.tryGetContext(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** `-c name=20` arrives as a string, cdk.json gives a number; `false` turns the reservation off. */
function reservedConcurrency(value: unknown): number | false | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === false || value === 'false') return false;
  return typeof value === 'number' ? value : Number(value);
}

new BridgeStack(app, 'BucketBridge', {
  config,
  // `roboflowApiKeySecretArn`: the name before other targets existed, still read.
  apiKeySecretArn: contextArn('apiKeySecretArn') ?? contextArn('roboflowApiKeySecretArn'),
  signingSecretArn: contextArn('signingSecretArn'),
  webhookReservedConcurrency: reservedConcurrency(app.node.tryGetContext('webhookReservedConcurrency')),
});

const nag: unknown = app.node.tryGetContext('nag');
if (nag === true || nag === 'true') {
  const { AwsSolutionsChecks } = await import('cdk-nag');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
