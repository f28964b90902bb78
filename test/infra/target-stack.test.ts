import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { BridgeStack } from '../../infra/bridge-stack';
import type { BridgeFunctionName } from '../../infra/bucket-bridge';
import type { BridgeConfigInput } from '../../shared/config/bridge-config';
import { asArray, flatten, functionStatements, logicalId, synthStack, testApp } from './fixtures';

function documentsConfig(target: BridgeConfigInput['target']): BridgeConfigInput {
  return {
    sources: [{ id: 'contracts', bucket: 'example-docs', prefix: 'contracts/', schedule: 'rate(1 day)', onObjectCreated: true }],
    destination: { bucket: 'example-results', prefix: 'extracted/' },
    target,
  };
}

const EXTEND = documentsConfig({ name: 'extend', processor: { id: 'ex_invoices', version: '2.1' } });
const LLAMACLOUD = documentsConfig({ name: 'llamacloud', configurationId: 'cfg-parse-contracts', projectId: 'proj-1' });

function inspect(config: BridgeConfigInput, overrides: Parameters<typeof synthStack>[0] = {}) {
  const { stack, template } = synthStack({ config, ...overrides });
  const envOf = (name: BridgeFunctionName) =>
    template.toJSON().Resources[logicalId(stack, stack.bridge.functions[name])].Properties.Environment.Variables as Record<string, unknown>;
  const statements = (name: BridgeFunctionName) => functionStatements(template, stack, name);
  const secretReads = (name: BridgeFunctionName) =>
    statements(name).filter((st) => asArray(st.Action).includes('secretsmanager:GetSecretValue')).map((st) => flatten(st.Resource));
  const s3Resources = (name: BridgeFunctionName, action: string) =>
    statements(name).filter((st) => asArray(st.Action).includes(action)).flatMap((st) => asArray(st.Resource).map(flatten));
  return { stack, template, envOf, secretReads, s3Resources };
}

describe('stack with Extend as the target', () => {
  const { stack, template, envOf, secretReads, s3Resources } = inspect(EXTEND);
  const keyRef = `<Ref:${logicalId(stack, stack.bridge.createdApiKeySecret!)}>`;
  const signingRef = `<Ref:${logicalId(stack, stack.bridge.createdSigningSecret!)}>`;

  it('creates placeholder secrets for the Extend API key and the endpoint signing secret', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    const descriptions = Object.values(template.findResources('AWS::SecretsManager::Secret')).map((r) => r.Properties.Description as string);
    expect(descriptions).toEqual(
      expect.arrayContaining([expect.stringContaining('Extend API key'), expect.stringContaining('signing secret of the Extend webhook endpoint')]),
    );
    template.hasOutput('ApiKeySecretName', { Description: Match.stringLikeRegexp('Extend API key') });
    template.hasOutput('SigningSecretName', {});
  });

  it('gives the signing secret to the webhook function only, and the API key to the functions that call Extend', () => {
    expect(flatten(envOf('webhook').TARGET_SIGNING_SECRET_ARN)).toBe(signingRef);
    expect(secretReads('webhook')).toContain(signingRef);
    expect(secretReads('webhook')).not.toContain(keyRef);
    for (const name of ['scheduled-run', 'continue-submission', 'object-created', 'start-job', 'export'] as const) {
      expect(envOf(name).TARGET_SIGNING_SECRET_ARN, name).toBeUndefined();
      expect(secretReads(name), name).not.toContain(signingRef);
    }
    for (const name of ['scheduled-run', 'continue-submission', 'start-job', 'export'] as const) {
      expect(flatten(envOf(name).TARGET_API_KEY_SECRET_ARN), name).toBe(keyRef);
    }
  });

  it('lets the export function read and sign the sources, to resubmit inputs whose URL expired', () => {
    expect(s3Resources('export', 's3:GetObject')).toContain('arn:aws:s3:::example-docs/contracts/*');
    expect(s3Resources('export', 's3:PutObject')).toContain('arn:aws:s3:::example-docs/bucket-bridge/manifests/*');
    expect(s3Resources('export', 's3:ListBucket')).toContain('arn:aws:s3:::example-docs');
  });

  it('passes the target (defaults filled in) and documents as the source media in BRIDGE_CONFIG', () => {
    const config = JSON.parse(envOf('webhook').BRIDGE_CONFIG as string);
    expect(config.target).toEqual({ name: 'extend', processor: { kind: 'extract', id: 'ex_invoices', version: '2.1' } });
    expect(config.sources[0].media).toBe('documents');
    expect(config.workspace).toBeUndefined();
  });

  it('uses existing secrets by ARN when given them', () => {
    const key = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:extend/api-key-AbCdEf';
    const signing = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:extend/signing-AbCdEf';
    const { stack: s, template: t, envOf: env } = inspect(EXTEND, { apiKeySecretArn: key, signingSecretArn: signing });
    t.resourceCountIs('AWS::SecretsManager::Secret', 1); // only the generated webhook token
    expect([s.bridge.createdApiKeySecret, s.bridge.createdSigningSecret]).toEqual([undefined, undefined]);
    expect(env('webhook').TARGET_SIGNING_SECRET_ARN).toBe(signing);
    expect(env('export').TARGET_API_KEY_SECRET_ARN).toBe(key);
  });
});

describe('stack with LlamaCloud as the target', () => {
  const { stack, template, envOf, secretReads, s3Resources } = inspect(LLAMACLOUD);

  it('creates a placeholder for the LlamaCloud key and generates the secret its batches sign webhooks with', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    template.hasOutput('ApiKeySecretName', { Description: Match.stringLikeRegexp('LlamaCloud API key') });
    expect(Object.keys(template.findOutputs('SigningSecretName'))).toEqual([]); // nothing to fill in
    const signing = template.toJSON().Resources[logicalId(stack, stack.bridge.createdSigningSecret!)].Properties;
    expect(signing.GenerateSecretString).toMatchObject({ PasswordLength: 48 });
    expect(signing.SecretString).toBeUndefined();
  });

  it('gives the signing secret to the functions that create batches or verify webhooks, and to no other', () => {
    const signingRef = `<Ref:${logicalId(stack, stack.bridge.createdSigningSecret!)}>`;
    for (const name of ['scheduled-run', 'continue-submission', 'webhook'] as const) {
      expect(flatten(envOf(name).TARGET_SIGNING_SECRET_ARN), name).toBe(signingRef);
      expect(secretReads(name), name).toContain(signingRef);
    }
    for (const name of ['object-created', 'start-job', 'export'] as const) {
      expect(envOf(name).TARGET_SIGNING_SECRET_ARN, name).toBeUndefined();
      expect(secretReads(name), name).not.toContain(signingRef);
    }
  });

  it('keeps the export function to the destination: LlamaCloud results come from its API', () => {
    expect(s3Resources('export', 's3:GetObject')).toEqual(['arn:aws:s3:::example-results/extracted/*']);
    expect(s3Resources('export', 's3:ListBucket')).toEqual(['arn:aws:s3:::example-results']); // its own run folders only
  });

  it('passes the target with its defaults', () => {
    const config = JSON.parse(envOf('scheduled-run').BRIDGE_CONFIG as string);
    expect(config.target).toEqual({ name: 'llamacloud', jobType: 'parse_v2', configurationId: 'cfg-parse-contracts', projectId: 'proj-1' });
  });
});

describe('function environments with document targets', () => {
  const common = ['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'BRIDGE_CONFIG', 'NODE_OPTIONS', 'STATE_TABLE', 'POWERTOOLS_LOGGER_SAMPLE_RATE', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_TRACE_ENABLED'];
  const hooks = ['TARGET_API_KEY_SECRET_ARN', 'WEBHOOK_SECRET_ARN', 'WEBHOOK_URL'];
  const expected = (signingOnSubmit: string[]): Record<BridgeFunctionName, string[]> => ({
    'scheduled-run': [...hooks, ...signingOnSubmit, 'SUBMISSIONS_QUEUE_URL', 'START_JOB_QUEUE_URL', 'PARTITIONS_QUEUE_URL'],
    'continue-submission': [...hooks, ...signingOnSubmit, 'SUBMISSIONS_QUEUE_URL', 'START_JOB_QUEUE_URL'],
    'object-created': ['SUBMISSIONS_QUEUE_URL'],
    webhook: ['WEBHOOK_SECRET_ARN', 'TARGET_SIGNING_SECRET_ARN', 'START_JOB_QUEUE_URL', 'EXPORT_QUEUE_URL'],
    // start-job plans the export of batches that all reported before the run was processing; it
    // hands the target no notifications URL (nothing is submitted there).
    'start-job': ['TARGET_API_KEY_SECRET_ARN', 'EXPORT_QUEUE_URL'],
    // No path token: the export hands the target no notifications URL.
    export: ['TARGET_API_KEY_SECRET_ARN', 'EXPORT_QUEUE_URL'],
    'submit-partition': [...hooks, ...signingOnSubmit, 'START_JOB_QUEUE_URL', 'PARTITIONS_QUEUE_URL'],
  });

  it.each([
    ['extend', EXTEND, []],
    ['llamacloud', LLAMACLOUD, ['TARGET_SIGNING_SECRET_ARN']],
  ] as const)('gives each function exactly the environment it reads: %s', (_name, config, signingOnSubmit) => {
    const { envOf } = inspect(config);
    for (const [name, names] of Object.entries(expected([...signingOnSubmit]))) {
      expect(Object.keys(envOf(name as BridgeFunctionName)).sort(), name).toEqual([...common, ...names].sort());
    }
  });
});

describe('target configuration errors', () => {
  it.each([
    ['images for a document target', { ...EXTEND, sources: [{ id: 'x', bucket: 'example-docs', media: 'images' as const }] }, /sources\.0\.media: documents/],
    ['documents for Roboflow', { ...documentsConfig({ name: 'roboflow', workspace: 'ws', workflowId: 'wf' }), sources: [{ id: 'x', bucket: 'b-1', media: 'documents' as const }] }, /sources\.0\.media: images or videos/],
    ['a target and the top-level Roboflow fields', { ...LLAMACLOUD, workspace: 'ws' }, /workspace: absent when `target` is set/],
    ['neither a target nor a workspace', { ...documentsConfig(undefined), workflowId: 'wf' }, /workspace: a Roboflow workspace slug/],
    ['an Extend processor id with a slash', documentsConfig({ name: 'extend', processor: { id: 'ex/1' } }), /target\.processor\.id/],
    ['an unknown LlamaCloud job', documentsConfig({ name: 'llamacloud', configurationId: 'c', jobType: 'classify' as never }), /target\.jobType/],
  ])('refuses %s, naming the field', (_, config, message) => {
    expect(() => new BridgeStack(testApp(), 'X', { config: config as BridgeConfigInput })).toThrow(message);
  });
});

describe('cdk-nag with document targets', () => {
  it.each([['extend', EXTEND], ['llamacloud', LLAMACLOUD]])('stays clean with %s', (name, config) => {
    const outdir = mkdtempSync(path.join(os.tmpdir(), `bucket-bridge-nag-${name}-`));
    try {
      const app = testApp({ outdir });
      new BridgeStack(app, `BridgeNag${name}`, { config });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).not.toThrow();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
