import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { BridgeStack } from '../../infra/bridge-stack';
import { BucketBridge, type BridgeFunctionName } from '../../infra/bucket-bridge';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { RUNTIME_ENV_NAMES } from '../../shared/config/runtime-env';
import { STATE_TABLE_KEYS, stateTableDefinition } from '../../shared/state/dynamo/table';
import {
  EXAMPLE_KMS_KEY,
  allStatements,
  asArray,
  exampleConfig,
  flatten,
  functionStatements,
  logicalId,
  synthStack,
  testApp,
  type Statement,
} from './fixtures';

const { stack, template } = synthStack();
const fns = stack.bridge.functions;
const fnId = (name: BridgeFunctionName) => logicalId(stack, fns[name]);
const queueId = (q: keyof typeof stack.bridge.queues, dlq = false) =>
  logicalId(stack, dlq ? stack.bridge.queues[q].deadLetterQueue : stack.bridge.queues[q].queue);

const functionProps = (name: BridgeFunctionName) => template.toJSON().Resources[fnId(name)].Properties;
const envOf = (name: BridgeFunctionName) => functionProps(name).Environment.Variables as Record<string, unknown>;
const s3Statements = (statements: Statement[]) => statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:')));
/** "action resource [condition]" lines of a function's S3 statements, partition flattened to aws. */
const s3Grants = (name: BridgeFunctionName, t = template, st = stack) =>
  s3Statements(functionStatements(t, st, name))
    .flatMap((s) =>
      asArray(s.Action).map((a) => `${a} ${flatten(s.Resource)}${s.Condition ? ' ' + JSON.stringify(s.Condition) : ''}`),
    )
    .sort();

describe('functions', () => {
  it('deploys seven Node.js 22 functions on ARM64 with source maps enabled', () => {
    template.resourceCountIs('AWS::Lambda::Function', 7);
    for (const name of Object.keys(fns) as BridgeFunctionName[]) {
      const props = functionProps(name);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(envOf(name).NODE_OPTIONS).toBe('--enable-source-maps');
      expect(envOf(name).AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
    }
  });

  it('reserves concurrency for the webhook function only (10 by default), so a flood on its public URL is throttled', () => {
    const reserved = Object.fromEntries((Object.keys(fns) as BridgeFunctionName[]).map((name) => [name, functionProps(name).ReservedConcurrentExecutions]));
    expect(reserved).toEqual({
      'scheduled-run': undefined,
      'continue-submission': undefined,
      'object-created': undefined,
      webhook: 10,
      'start-job': undefined,
      export: undefined,
      'submit-partition': undefined,
    });
  });

  it('sets the timeouts and memory sizes', () => {
    const expected: Record<BridgeFunctionName, [number, number]> = {
      'scheduled-run': [900, 1024],
      'continue-submission': [900, 1024],
      'object-created': [60, 512],
      webhook: [10, 512],
      'start-job': [300, 512],
      export: [900, 1536],
      'submit-partition': [900, 1024],
    };
    for (const [name, [timeout, memory]] of Object.entries(expected)) {
      const props = functionProps(name as BridgeFunctionName);
      expect([props.Timeout, props.MemorySize], name).toEqual([timeout, memory]);
    }
  });

  it('gives each function exactly the environment it reads', () => {
    const common = ['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'BRIDGE_CONFIG', 'NODE_OPTIONS', 'STATE_TABLE', 'POWERTOOLS_LOGGER_SAMPLE_RATE', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_TRACE_ENABLED'];
    const expected: Record<BridgeFunctionName, string[]> = {
      'scheduled-run': ['TARGET_API_KEY_SECRET_ARN', 'WEBHOOK_SECRET_ARN', 'WEBHOOK_URL', 'SUBMISSIONS_QUEUE_URL', 'START_JOB_QUEUE_URL', 'PARTITIONS_QUEUE_URL'],
      'continue-submission': ['TARGET_API_KEY_SECRET_ARN', 'WEBHOOK_SECRET_ARN', 'WEBHOOK_URL', 'SUBMISSIONS_QUEUE_URL', 'START_JOB_QUEUE_URL'],
      'object-created': ['SUBMISSIONS_QUEUE_URL'],
      webhook: ['WEBHOOK_SECRET_ARN', 'START_JOB_QUEUE_URL', 'EXPORT_QUEUE_URL'],
      'start-job': ['TARGET_API_KEY_SECRET_ARN', 'WEBHOOK_SECRET_ARN', 'WEBHOOK_URL', 'START_JOB_QUEUE_URL'],
      export: ['TARGET_API_KEY_SECRET_ARN', 'EXPORT_QUEUE_URL'],
      'submit-partition': ['TARGET_API_KEY_SECRET_ARN', 'WEBHOOK_SECRET_ARN', 'WEBHOOK_URL', 'START_JOB_QUEUE_URL', 'PARTITIONS_QUEUE_URL'],
    };
    for (const [name, names] of Object.entries(expected)) {
      const env = envOf(name as BridgeFunctionName);
      expect(Object.keys(env).sort(), name).toEqual([...common, ...names].sort());
      for (const key of Object.keys(env)) {
        // Node, the SDK and Powertools read these themselves.
        if (!['NODE_OPTIONS', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'].includes(key) && !key.startsWith('POWERTOOLS_')) {
          expect(RUNTIME_ENV_NAMES, key).toContain(key);
        }
      }
    }
    const urlId = logicalId(stack, stack.bridge.webhookUrl);
    expect(envOf('start-job').WEBHOOK_URL).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
    expect(envOf('export').EXPORT_QUEUE_URL).toEqual({ Ref: queueId('export') });
    expect(envOf('webhook').START_JOB_QUEUE_URL).toEqual({ Ref: queueId('startJob') });
    expect(envOf('object-created').STATE_TABLE).toEqual({ Ref: logicalId(stack, stack.bridge.table) });
  });

  it('passes the parsed config (defaults filled in) as BRIDGE_CONFIG', () => {
    const parsed = parseBridgeConfig(exampleConfig());
    for (const name of Object.keys(fns) as BridgeFunctionName[]) {
      expect(JSON.parse(envOf(name).BRIDGE_CONFIG as string)).toEqual(parsed);
    }
  });

  it('passes secrets only by ARN: no environment value holds or resolves a secret value', () => {
    const secretIds = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    expect(secretIds).toHaveLength(2);
    for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret'))) {
      expect(secret.Properties.SecretString).toBeUndefined(); // generated by Secrets Manager at deploy
    }
    const roboflowId = logicalId(stack, stack.bridge.createdApiKeySecret!);
    const webhookSecretId = logicalId(stack, stack.bridge.webhookSecret);
    for (const name of Object.keys(fns) as BridgeFunctionName[]) {
      const env = envOf(name);
      const json = JSON.stringify(env);
      expect(json).not.toMatch(/resolve:secretsmanager|SecretString|secretsmanager:.*:SecretString/i);
      for (const [key, value] of Object.entries(env)) {
        const refs = JSON.stringify(value).match(/"Ref":"[^"]+"|"Fn::GetAtt":\["[^"]+"/g) ?? [];
        const secretRefs = refs.filter((r) => secretIds.some((id) => r.includes(`"${id}"`)));
        if (key === 'TARGET_API_KEY_SECRET_ARN') expect(value).toEqual({ Ref: roboflowId }); // Ref of a secret = its ARN
        else if (key === 'WEBHOOK_SECRET_ARN') expect(value).toEqual({ Ref: webhookSecretId });
        else expect(secretRefs, `${name} ${key}`).toEqual([]);
      }
    }
  });

  it('uses an existing Roboflow key secret by ARN when given one', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:roboflow/api-key-AbCdEf';
    const { stack: s, template: t } = synthStack({ apiKeySecretArn: arn });
    t.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(s.bridge.createdApiKeySecret).toBeUndefined();
    const env = t.toJSON().Resources[logicalId(s, s.bridge.functions.export)].Properties.Environment.Variables;
    expect(env.TARGET_API_KEY_SECRET_ARN).toBe(arn);
    expect(functionStatements(t, s, 'export')).toContainEqual(
      expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: arn }),
    );
    t.hasOutput('ApiKeySecretName', { Value: 'roboflow/api-key' });
  });

  it('still reads the Roboflow-era names of the key secret (stack prop and construct prop)', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:roboflow/old-name-AbCdEf';
    const { stack: s, template: t } = synthStack({ roboflowApiKeySecretArn: arn });
    expect(s.bridge.createdApiKeySecret).toBeUndefined();
    expect(t.toJSON().Resources[logicalId(s, s.bridge.functions.export)].Properties.Environment.Variables.TARGET_API_KEY_SECRET_ARN).toBe(arn);
    const other = new Stack(testApp(), 'Old');
    const secret = Secret.fromSecretCompleteArn(other, 'Key', arn);
    const bridge = new BucketBridge(other, 'Bridge', { config: exampleConfig(), roboflowApiKeySecret: secret });
    expect([bridge.apiKeySecret, bridge.roboflowApiKeySecret, bridge.createdRoboflowApiKeySecret]).toEqual([secret, secret, undefined]);
    const viaStack = new BridgeStack(testApp(), 'OldStack', { config: exampleConfig(), roboflowApiKeySecret: secret });
    expect(viaStack.bridge.apiKeySecret).toBe(secret);
  });

  it('gives every function its own log group with a retention (one month by default)', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 7);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    for (const name of Object.keys(fns) as BridgeFunctionName[]) {
      expect(functionProps(name).LoggingConfig).toEqual({ LogGroup: { Ref: logicalId(stack, fns[name].logGroup) } });
    }
    const { template: t } = synthStack({ logRetention: RetentionDays.ONE_WEEK });
    t.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('webhook Function URL', () => {
  it('is public (authentication is the secret path token) and targets the webhook function', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId('webhook'), 'Arn'] },
    });
    template.hasOutput('WebhookUrl', { Value: { 'Fn::GetAtt': [logicalId(stack, stack.bridge.webhookUrl), 'FunctionUrl'] } });
  });
});

describe('state table', () => {
  it('has pk/sk string keys, the expiresAt TTL, on-demand billing, PITR, and is retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    template.hasOutput('StateTableName', { Value: { Ref: logicalId(stack, stack.bridge.table) } });
  });

  it('matches the table definition the state adapter uses', () => {
    const def = stateTableDefinition('t');
    const props = template.toJSON().Resources[logicalId(stack, stack.bridge.table)].Properties;
    expect(props.KeySchema).toEqual(def.KeySchema);
    expect(props.AttributeDefinitions).toEqual(def.AttributeDefinitions);
    expect(props.BillingMode).toBe(def.BillingMode);
    expect(props.TimeToLiveSpecification.AttributeName).toBe(STATE_TABLE_KEYS.ttlAttribute);
  });
});

describe('queues', () => {
  const consumers = {
    submissions: { fn: 'continue-submission', maxReceiveCount: 3, batchSize: 1 },
    objectEvents: { fn: 'object-created', maxReceiveCount: 5, batchSize: 100 },
    startJob: { fn: 'start-job', maxReceiveCount: 3, batchSize: 1 },
    export: { fn: 'export', maxReceiveCount: 5, batchSize: 10 },
    partitions: { fn: 'submit-partition', maxReceiveCount: 3, batchSize: 1 },
  } as const;

  it('dead-letters after the delivery counts the handlers assume (shared/config/queues.ts)', () => {
    for (const [q, { maxReceiveCount }] of Object.entries(consumers)) {
      expect(MAX_RECEIVES[q as keyof typeof MAX_RECEIVES], q).toBe(maxReceiveCount);
    }
  });

  it('has five encrypted work queues, each redriving to its own 14-day dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 10);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    const dlqs = new Set<string>();
    for (const [q, { maxReceiveCount }] of Object.entries(consumers)) {
      const key = q as keyof typeof consumers;
      const props = template.toJSON().Resources[queueId(key)].Properties;
      expect(props.RedrivePolicy, q).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [queueId(key, true), 'Arn'] },
        maxReceiveCount,
      });
      dlqs.add(queueId(key, true));
      expect(template.toJSON().Resources[queueId(key, true)].Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
    expect(dlqs.size).toBe(5);
  });

  it('enforces TLS on every queue', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const queuesWithTls = policies
      .filter((p) =>
        (p.Properties.PolicyDocument.Statement as Statement[]).some(
          (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
        ),
      )
      .flatMap((p) => (p.Properties.Queues as Array<{ Ref: string }>).map((r) => r.Ref));
    expect(new Set(queuesWithTls).size).toBe(10);
  });

  it('consumes each queue with partial batch responses and a visibility timeout ≥ 6 × the consumer timeout', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 5);
    for (const [q, { fn, batchSize }] of Object.entries(consumers)) {
      const key = q as keyof typeof consumers;
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [queueId(key), 'Arn'] },
        FunctionName: { Ref: fnId(fn) },
        BatchSize: batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      const visibility = template.toJSON().Resources[queueId(key)].Properties.VisibilityTimeout as number;
      expect(visibility, q).toBeGreaterThanOrEqual(6 * (functionProps(fn).Timeout as number));
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('object-created') },
      MaximumBatchingWindowInSeconds: 20,
    });
  });

  it('runs at most discovery.partitions partition workers at once (the event source\'s maximum concurrency, at least 2)', () => {
    const concurrencyOf = (config?: object) => {
      const { template: t, stack: s } = config ? synthStack({ config: { ...exampleConfig(), ...config } }) : { template, stack };
      const mapping = Object.values(t.findResources('AWS::Lambda::EventSourceMapping')).find(
        (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: logicalId(s, s.bridge.functions['submit-partition']) }),
      );
      return mapping?.Properties.ScalingConfig;
    };
    expect(concurrencyOf()).toEqual({ MaximumConcurrency: 2 });
    expect(concurrencyOf({ discovery: { partitions: 16 } })).toEqual({ MaximumConcurrency: 16 });
    // A source listed in more partitions than the deployment's default raises it.
    expect(concurrencyOf({ discovery: { partitions: 4 }, sources: [{ ...exampleConfig().sources[0]!, partitions: 24 }] })).toEqual({ MaximumConcurrency: 24 });
  });
});

describe('EventBridge rules', () => {
  it('schedules each source that has a schedule, passing the source id and the tick time and id', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.ScheduleExpression);
    const target = (sourceId: string) =>
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [fnId('scheduled-run'), 'Arn'] },
        InputTransformer: {
          InputPathsMap: { time: '$.time', id: '$.id' },
          InputTemplate: `{"sourceId":"${sourceId}","time":<time>,"id":<id>}`,
        },
      });
    expect(rules.map((r) => [r.Properties.ScheduleExpression, r.Properties.Targets])).toEqual([
      ['rate(1 hour)', [target('cameras')]],
      ['cron(0 3 * * ? *)', [target('dashcam-videos')]],
    ]);
  });

  it('routes S3 Object Created events of opted-in sources to the object-events queue', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern);
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['example-media'] }, object: { key: [{ prefix: 'cameras/' }] } },
    });
    expect(rules[0]!.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [queueId('objectEvents'), 'Arn'] } }),
    ]);
    // EventBridge may send to the queue, only from this rule.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId('objectEvents') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: Match.arrayWith(['sqs:SendMessage']) }),
        ]),
      },
    });
  });
});

describe('IAM', () => {
  const statements = allStatements(template);

  it('never grants wildcard actions', () => {
    for (const { policy, statement } of statements) {
      for (const action of asArray(statement.Action)) {
        expect(action, policy).not.toBe('*');
        expect(action, policy).not.toMatch(/\*/);
      }
    }
  });

  it('never grants S3, DynamoDB, SQS, Secrets Manager or KMS actions on "*"', () => {
    for (const { policy, statement } of statements) {
      const services = new Set(asArray(statement.Action).map((a) => a.split(':')[0]));
      if (['s3', 'dynamodb', 'sqs', 'secretsmanager', 'kms'].some((s) => services.has(s))) {
        expect(asArray(statement.Resource).map(flatten), policy).not.toContain('*');
      }
    }
  });

  it('scopes S3 access of the run functions to the configured sources, manifests and destination', () => {
    const expected = [
      's3:ListBucket arn:aws:s3:::example-media {"StringLike":{"s3:prefix":["cameras/*"]}}',
      's3:GetObject arn:aws:s3:::example-media/cameras/*',
      's3:PutObject arn:aws:s3:::example-media/bucket-bridge/manifests/*',
      's3:GetObject arn:aws:s3:::example-media/bucket-bridge/manifests/*',
      's3:AbortMultipartUpload arn:aws:s3:::example-media/bucket-bridge/manifests/*',
      's3:ListBucket arn:aws:s3:::example-videos {"StringLike":{"s3:prefix":["dashcam/*"]}}',
      's3:GetObject arn:aws:s3:::example-videos/dashcam/*',
      's3:PutObject arn:aws:s3:::example-videos/bucket-bridge/manifests/*',
      's3:GetObject arn:aws:s3:::example-videos/bucket-bridge/manifests/*',
      's3:AbortMultipartUpload arn:aws:s3:::example-videos/bucket-bridge/manifests/*',
      's3:PutObject arn:aws:s3:::example-results/roboflow/*',
      's3:GetObject arn:aws:s3:::example-results/roboflow/*',
      's3:AbortMultipartUpload arn:aws:s3:::example-results/roboflow/*',
      's3:ListBucket arn:aws:s3:::example-results {"StringLike":{"s3:prefix":["roboflow/*"]}}',
      // The preflight's probe object is removed again.
      's3:DeleteObject arn:aws:s3:::example-results/roboflow/.bucket-bridge-probe-*',
    ].sort();
    expect(s3Grants('scheduled-run')).toEqual(expected);
    expect(s3Grants('continue-submission')).toEqual(expected);
  });

  it('lets start-job and export write only under the destination prefix, and the others not touch S3', () => {
    const destination = [
      's3:AbortMultipartUpload arn:aws:s3:::example-results/roboflow/*',
      's3:GetObject arn:aws:s3:::example-results/roboflow/*',
      's3:ListBucket arn:aws:s3:::example-results {"StringLike":{"s3:prefix":["roboflow/*"]}}',
      's3:PutObject arn:aws:s3:::example-results/roboflow/*',
    ];
    expect(s3Grants('start-job')).toEqual(destination);
    // The export removes what a failed copy wrote, and lists the run folder for results-by-key.
    expect(s3Grants('export')).toEqual([...destination, 's3:DeleteObject arn:aws:s3:::example-results/roboflow/*'].sort());
    expect(s3Grants('webhook')).toEqual([]);
    expect(s3Grants('object-created')).toEqual([]);
  });

  it('references no bucket other than the configured ones in any S3 statement', () => {
    const allowed = /^arn:aws:s3:::(example-media(\/cameras\/\*|\/bucket-bridge\/manifests\/\*)?|example-videos(\/dashcam\/\*|\/bucket-bridge\/manifests\/\*)?|example-results(\/roboflow\/(\.bucket-bridge-probe-)?\*)?)$/;
    const s3 = statements.filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const { statement } of s3) {
      for (const r of asArray(statement.Resource)) expect(flatten(r)).toMatch(allowed);
      if (asArray(statement.Action).includes('s3:ListBucket')) expect(statement.Condition).toBeDefined();
    }
  });

  it('grants KMS only on the configured key ARNs, only to the functions that read or write those buckets', () => {
    const kms = statements.filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith('kms:')));
    expect(kms.length).toBe(3);
    for (const { statement } of kms) expect(statement.Resource).toBe(EXAMPLE_KMS_KEY);
    for (const name of ['scheduled-run', 'continue-submission', 'submit-partition'] as const) {
      expect(functionStatements(template, stack, name)).toContainEqual(
        expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: EXAMPLE_KMS_KEY }),
      );
    }

    const destKey = 'arn:aws:kms:us-east-1:111122223333:key/dest-key';
    const config = exampleConfig();
    config.destination.kmsKeyArn = destKey;
    const { stack: s, template: t } = synthStack({ config });
    for (const name of ['export', 'start-job'] as const) {
      expect(functionStatements(t, s, name).filter((st) => asArray(st.Action).some((a) => a.startsWith('kms:')))).toEqual([
        expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: destKey }),
      ]);
    }
    expect(functionStatements(t, s, 'webhook').some((st) => asArray(st.Action).some((a) => a.startsWith('kms:')))).toBe(false);
  });

  it('gives each function only the secrets, queues and table it uses', () => {
    const roboflowId = logicalId(stack, stack.bridge.createdApiKeySecret!);
    const webhookId = logicalId(stack, stack.bridge.webhookSecret);
    const secretsOf = (name: BridgeFunctionName) =>
      functionStatements(template, stack, name)
        .filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'))
        .map((s) => flatten(s.Resource))
        .sort();
    expect(secretsOf('scheduled-run')).toEqual([`<Ref:${roboflowId}>`, `<Ref:${webhookId}>`].sort());
    expect(secretsOf('start-job')).toEqual([`<Ref:${roboflowId}>`, `<Ref:${webhookId}>`].sort());
    expect(secretsOf('webhook')).toEqual([`<Ref:${webhookId}>`]);
    expect(secretsOf('export')).toEqual([`<Ref:${roboflowId}>`]);
    expect(secretsOf('object-created')).toEqual([]);

    const sendsTo = (name: BridgeFunctionName) =>
      functionStatements(template, stack, name)
        .filter((s) => asArray(s.Action).includes('sqs:SendMessage'))
        .map((s) => flatten(s.Resource))
        .sort();
    const arn = (q: keyof typeof stack.bridge.queues) => `<${queueId(q)}.Arn>`;
    expect(sendsTo('scheduled-run')).toEqual([arn('partitions'), arn('startJob'), arn('submissions')].sort());
    expect(sendsTo('continue-submission')).toEqual([arn('startJob'), arn('submissions')].sort());
    expect(sendsTo('object-created')).toEqual([arn('submissions')]);
    expect(sendsTo('webhook')).toEqual([arn('export'), arn('startJob')].sort());
    expect(sendsTo('export')).toEqual([arn('export')]);
    // Its later looks at an ingest that goes on after every notification came in.
    expect(sendsTo('start-job')).toEqual([arn('startJob')]);
    // Hands partitions on and sweeps them; asks for the job start after the join.
    expect(sendsTo('submit-partition')).toEqual([arn('partitions'), arn('startJob')].sort());
    expect(secretsOf('submit-partition')).toEqual([`<Ref:${roboflowId}>`, `<Ref:${webhookId}>`].sort());

    const tableArn = `<${logicalId(stack, stack.bridge.table)}.Arn>`;
    for (const name of Object.keys(fns) as BridgeFunctionName[]) {
      const dynamo = functionStatements(template, stack, name).filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.length, name).toBeGreaterThan(0);
      for (const s of dynamo) expect(asArray(s.Resource).map(flatten)).toEqual([tableArn]);
    }
  });

  it('attaches no managed policies (logs permissions are scoped to each function log group)', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    const logs = statements.filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith('logs:')));
    expect(logs).toHaveLength(7);
    for (const { statement } of logs) expect(flatten(statement.Resource)).toMatch(/^<\w+LogGroup\w+\.Arn>$/);
  });

  it('lists the whole bucket without a prefix condition when a source has no prefix', () => {
    const config = exampleConfig();
    config.sources = [{ id: 'all', bucket: 'whole-bucket', prefix: '', onObjectCreated: true }];
    const { stack: s, template: t } = synthStack({ config });
    expect(s3Grants('scheduled-run', t, s)).toContain('s3:ListBucket arn:aws:s3:::whole-bucket');
    expect(s3Grants('scheduled-run', t, s)).toContain('s3:GetObject arn:aws:s3:::whole-bucket/*');
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['whole-bucket'] } } },
    });
    t.resourceCountIs('AWS::Events::Rule', 1); // no schedule
  });
});

describe('outputs and configuration', () => {
  it('outputs the webhook URL, both secret names and the table name', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(
      ['ApiKeySecretName', 'StateTableName', 'WebhookSecretName', 'WebhookUrl'].sort(),
    );
  });

  it('rejects a bad configuration, naming the field', () => {
    const badBucket = exampleConfig();
    badBucket.sources[1]!.bucket = 'Bad_Bucket';
    expect(() => new BridgeStack(testApp(), 'X', { config: badBucket })).toThrow(/sources\.1\.bucket/);

    const badPrefix = exampleConfig();
    badPrefix.destination.prefix = 'no-trailing-slash';
    expect(() => new BridgeStack(testApp(), 'X', { config: badPrefix })).toThrow(/destination\.prefix/);

    const duplicate = exampleConfig();
    duplicate.sources[1]!.id = 'cameras';
    expect(() => new BridgeStack(testApp(), 'X', { config: duplicate })).toThrow(/"cameras" is used twice/);
  });

  it('can be placed in any stack as a construct, with an imported secret', () => {
    const app = testApp();
    const s = new Stack(app, 'Mine');
    const secret = Secret.fromSecretNameV2(s, 'Key', 'roboflow-key');
    const bridge = new BucketBridge(s, 'Bridge', { config: exampleConfig(), apiKeySecret: secret });
    expect(bridge.apiKeySecret).toBe(secret);
    expect(bridge.config.manifestPrefix).toBe('bucket-bridge/manifests/');
  });
});
