import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { BridgeStack } from '../../infra/bridge-stack';
import type { BridgeFunctionName } from '../../infra/bucket-bridge';
import type { BridgeConfigInput } from '../../shared/config/bridge-config';
import { RUNTIME_ENV_NAMES } from '../../shared/config/runtime-env';
import { asArray, exampleConfig, flatten, functionStatements, logicalId, synthStack, testApp } from './fixtures';

const COMPLETE_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:bucket-bridge/gcs-AbCdEf';
const PARTIAL_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:bucket-bridge/gcs';

function gcsConfig(arn = COMPLETE_ARN): BridgeConfigInput {
  const config = exampleConfig();
  config.sources.push({ id: 'gcs-frames', store: 'gcs', bucket: 'my_gcs_frames', prefix: 'frames/', schedule: 'rate(6 hours)' });
  config.gcsCredentialsSecretArn = arn;
  return config;
}

describe('stack with a GCS source', () => {
  const { stack, template } = synthStack({ config: gcsConfig() });
  const envOf = (name: BridgeFunctionName) =>
    template.toJSON().Resources[logicalId(stack, stack.bridge.functions[name])].Properties.Environment.Variables as Record<string, unknown>;
  const secretReads = (name: BridgeFunctionName, t = template, s = stack) =>
    functionStatements(t, s, name)
      .filter((st) => asArray(st.Action).includes('secretsmanager:GetSecretValue'))
      .map((st) => flatten(st.Resource));

  it('gives the functions that read sources the GCS secret by ARN, and no other function', () => {
    for (const name of ['scheduled-run', 'continue-submission'] as const) {
      expect(envOf(name).GCS_CREDENTIALS_SECRET_ARN).toBe(COMPLETE_ARN);
      expect(secretReads(name)).toContain(COMPLETE_ARN);
    }
    for (const name of ['object-created', 'webhook', 'start-job', 'export'] as const) {
      expect(envOf(name).GCS_CREDENTIALS_SECRET_ARN, name).toBeUndefined();
      expect(secretReads(name), name).not.toContain(COMPLETE_ARN);
    }
    expect(RUNTIME_ENV_NAMES).toContain('GCS_CREDENTIALS_SECRET_ARN');
    // Imported, not created: the operator owns the service-account key or signBlob configuration.
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    expect(stack.bridge.gcsCredentialsSecret?.secretArn).toBe(COMPLETE_ARN);
  });

  it('grants no S3 access on the GCS bucket and routes no S3 events for it, but schedules it', () => {
    const s3 = functionStatements(template, stack, 'scheduled-run').filter((st) => asArray(st.Action).some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const st of s3) for (const r of asArray(st.Resource)) expect(flatten(r)).not.toContain('my_gcs_frames');
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties);
    expect(rules.some((r) => JSON.stringify(r.EventPattern ?? {}).includes('my_gcs_frames'))).toBe(false);
    expect(rules.filter((r) => r.ScheduleExpression === 'rate(6 hours)')).toHaveLength(1);
    const input = rules.find((r) => r.ScheduleExpression === 'rate(6 hours)')!.Targets[0].InputTransformer.InputTemplate as string;
    expect(input).toContain('"sourceId":"gcs-frames"');
  });

  it('passes the store in BRIDGE_CONFIG (S3 sources default to store "s3")', () => {
    const config = JSON.parse(envOf('scheduled-run').BRIDGE_CONFIG as string);
    expect(config.sources.map((s: { id: string; store: string }) => `${s.id}:${s.store}`)).toEqual(['cameras:s3', 'dashcam-videos:s3', 'gcs-frames:gcs']);
    expect(config.gcsCredentialsSecretArn).toBe(COMPLETE_ARN);
  });

  it('grants a partial secret ARN with the random suffix wildcard', () => {
    const { stack: s, template: t } = synthStack({ config: gcsConfig(PARTIAL_ARN) });
    expect(secretReads('scheduled-run', t, s)).toContain(`${PARTIAL_ARN}-??????`);
  });

  it('wires no GCS secret when no source reads GCS', () => {
    const config = exampleConfig();
    config.gcsCredentialsSecretArn = COMPLETE_ARN;
    const { stack: s, template: t } = synthStack({ config });
    expect(s.bridge.gcsCredentialsSecret).toBeUndefined();
    for (const name of Object.keys(s.bridge.functions) as BridgeFunctionName[]) {
      const env = t.toJSON().Resources[logicalId(s, s.bridge.functions[name])].Properties.Environment.Variables;
      expect(env.GCS_CREDENTIALS_SECRET_ARN, name).toBeUndefined();
      expect(secretReads(name, t, s), name).not.toContain(COMPLETE_ARN);
    }
  });

  it.each([
    ['without the credentials secret', (c: BridgeConfigInput) => void delete c.gcsCredentialsSecretArn, /gcsCredentialsSecretArn/],
    ['with object-created runs on the GCS source', (c: BridgeConfigInput) => void (c.sources.at(-1)!.onObjectCreated = true), /sources\.2\.onObjectCreated/],
  ])('refuses a GCS source %s, naming the field', (_, change, message) => {
    const config = gcsConfig();
    change(config);
    expect(() => new BridgeStack(testApp(), 'X', { config })).toThrow(message);
  });

  it('stays clean under cdk-nag with a GCS source', () => {
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'bucket-bridge-nag-gcs-'));
    try {
      const app = testApp({ outdir });
      new BridgeStack(app, 'BridgeNagGcs', { config: gcsConfig() });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).not.toThrow();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

