import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeFunctionName } from '../../infra/bucket-bridge';
import { RUNTIME_ENV_NAMES } from '../../shared/config/runtime-env';
import { silentLogger } from '../../shared/log';
import { specForSource } from '../../shared/run/source-spec';
import { allParts } from '../../shared/runtime/all-parts';
import { createLambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { logicalId, synthStack } from '../infra/fixtures';
import { deployedEnv, FUNCTION_NAMES } from '../support/deployed-env';
import { FUNCTION_PARTS, startServerlessHarness, type HarnessTarget, type ServerlessHarness } from '../support/serverless';

/** Every function, whatever the target (POWERTOOLS_*: logs, metrics and traces). */
const COMMON = ['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'BRIDGE_CONFIG', 'NODE_OPTIONS', 'STATE_TABLE', 'POWERTOOLS_LOGGER_SAMPLE_RATE', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_TRACE_ENABLED'];
const API_KEY = 'TARGET_API_KEY_SECRET_ARN';
const SIGNING = 'TARGET_SIGNING_SECRET_ARN';
/** Gives the target a notifications URL (with the path token). */
const NOTIFIES = ['WEBHOOK_SECRET_ARN', 'WEBHOOK_URL'];
const SENDS_ON = ['SUBMISSIONS_QUEUE_URL', 'START_JOB_QUEUE_URL'];
/** Partitions a run's source (scheduled-run) and submits, hands on and joins partitions (submit-partition). */
const PARTITIONS = 'PARTITIONS_QUEUE_URL';

/** The bridge variables each function is deployed with, per target (besides COMMON). */
const EXPECTED: Record<HarnessTarget, Record<BridgeFunctionName, string[]>> = {
  roboflow: {
    'scheduled-run': [API_KEY, ...NOTIFIES, ...SENDS_ON, PARTITIONS],
    'continue-submission': [API_KEY, ...NOTIFIES, ...SENDS_ON],
    'object-created': ['SUBMISSIONS_QUEUE_URL'],
    webhook: ['WEBHOOK_SECRET_ARN', 'START_JOB_QUEUE_URL', 'EXPORT_QUEUE_URL'],
    // Its later looks at an ingest that goes on after every notification came in.
    'start-job': [API_KEY, ...NOTIFIES, 'START_JOB_QUEUE_URL'],
    export: [API_KEY, 'EXPORT_QUEUE_URL'],
    'submit-partition': [API_KEY, ...NOTIFIES, 'START_JOB_QUEUE_URL', PARTITIONS],
  },
  extend: {
    'scheduled-run': [API_KEY, ...NOTIFIES, ...SENDS_ON, PARTITIONS],
    'continue-submission': [API_KEY, ...NOTIFIES, ...SENDS_ON],
    'object-created': ['SUBMISSIONS_QUEUE_URL'],
    webhook: ['WEBHOOK_SECRET_ARN', SIGNING, 'START_JOB_QUEUE_URL', 'EXPORT_QUEUE_URL'],
    'start-job': [API_KEY, 'EXPORT_QUEUE_URL'],
    export: [API_KEY, 'EXPORT_QUEUE_URL'],
    'submit-partition': [API_KEY, ...NOTIFIES, 'START_JOB_QUEUE_URL', PARTITIONS],
  },
  llamacloud: {
    'scheduled-run': [API_KEY, ...NOTIFIES, SIGNING, ...SENDS_ON, PARTITIONS],
    'continue-submission': [API_KEY, ...NOTIFIES, SIGNING, ...SENDS_ON],
    'object-created': ['SUBMISSIONS_QUEUE_URL'],
    webhook: ['WEBHOOK_SECRET_ARN', SIGNING, 'START_JOB_QUEUE_URL', 'EXPORT_QUEUE_URL'],
    'start-job': [API_KEY, 'EXPORT_QUEUE_URL'],
    export: [API_KEY, 'EXPORT_QUEUE_URL'],
    'submit-partition': [API_KEY, ...NOTIFIES, SIGNING, 'START_JOB_QUEUE_URL', PARTITIONS],
  },
};

/** The harness's local settings: loopback endpoints, AWS region/credentials/S3 endpoint, the local stack's own. */
const LOCAL = [
  'AWS_ACCESS_KEY_ID',
  'AWS_ENDPOINT_URL_S3',
  'AWS_REGION',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
  'AWS_SECRET_ACCESS_KEY',
  'DYNAMODB_ENDPOINT',
  'ROBOFLOW_API_KEY',
  'ROBOFLOW_API_URL',
  'SECRETS_ENDPOINT',
  'SQS_ENDPOINT',
];

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

describe('the runtime parts each function module builds with', () => {
  it('are the SDK clients the function uses', () => {
    const keys = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, Object.keys(FUNCTION_PARTS[name]).sort()]));
    expect(keys).toEqual({
      'scheduled-run': ['queues', 'secrets', 'stores'],
      'continue-submission': ['queues', 'secrets', 'stores'],
      'object-created': ['queues'],
      webhook: ['queues', 'secrets'],
      // Extend and LlamaCloud runs may get their export planned by start-job (EXPORT_QUEUE_URL).
      'start-job': ['queues', 'secrets', 'stores'],
      export: ['queues', 'secrets', 'stores'],
      'submit-partition': ['queues', 'secrets', 'stores'],
    });
  });
});

describe.each(['roboflow', 'extend', 'llamacloud'] as const)('the harness runs each function as deployed (%s)', (target) => {
  let h: ServerlessHarness;
  let templateEnv: (name: BridgeFunctionName) => Record<string, unknown>;

  beforeAll(async () => {
    h = await startServerlessHarness({ target });
    // An independent synthesis of the harness's configuration.
    const { stack, template } = synthStack({ config: h.config });
    const resources = template.toJSON().Resources;
    templateEnv = (name) => resources[logicalId(stack, stack.bridge.functions[name])].Properties.Environment.Variables;
  });
  afterAll(() => h.close());

  it('gives each handler exactly the variables the stack gives its function, plus the local settings', () => {
    const local = Object.keys(h.env).filter((n) => LOCAL.includes(n));
    expect(sorted(local)).toEqual(sorted(LOCAL));
    // No local setting stands in for a bridge variable (the endpoints are test-only ones).
    expect(LOCAL.filter((n) => (RUNTIME_ENV_NAMES as string[]).includes(n))).toEqual(['DYNAMODB_ENDPOINT', 'SECRETS_ENDPOINT', 'SQS_ENDPOINT']);

    for (const name of FUNCTION_NAMES) {
      const env = h.main.envs[name];
      expect(sorted(Object.keys(templateEnv(name))), name).toEqual(sorted([...COMMON, ...EXPECTED[target][name]]));
      expect(sorted(Object.keys(env)), name).toEqual(sorted([...COMMON, ...EXPECTED[target][name], ...LOCAL]));
      // References take the harness's values; literal values are the deployed ones.
      for (const [key, value] of Object.entries(templateEnv(name))) {
        // The service name is the stack's name, which differs between the two syntheses.
        if (key === 'POWERTOOLS_SERVICE_NAME') expect(env[key], name).toBe('BridgeHarness');
        else expect(env[key], `${name} ${key}`).toBe(typeof value === 'string' ? value : h.env[key]);
      }
      expect(JSON.parse(env.BRIDGE_CONFIG!), name).toEqual(h.main.runtime.config);
    }
    // Fresh containers get the same.
    expect(h.container().envs).toEqual(h.main.envs);
  });

  it('builds each handler with its own parts and environment: what a function lacks fails in it', async () => {
    const { runtimes } = h.main;
    const spec = specForSource(h.main.runtime.config, h.main.runtime.config.sources[0]!);
    // No stores part.
    await expect(runtimes['object-created'].depsFor(spec)).rejects.toThrow('bucket access is not available in this function');
    await expect(runtimes.webhook.depsFor(spec)).rejects.toThrow('bucket access is not available in this function');
    // No webhook secret, no submissions queue.
    await expect(runtimes.export.webhookReceiver()).rejects.toThrow('WEBHOOK_SECRET_ARN is not available in this function');
    await expect(runtimes.export.queues.submissions.send([])).rejects.toThrow('SUBMISSIONS_QUEUE_URL is not available in this function');
    await expect(runtimes['object-created'].queues.startJob.send([])).rejects.toThrow('START_JOB_QUEUE_URL is not available in this function');
    if (target === 'roboflow') {
      await expect(runtimes['start-job'].queues.export.send([])).rejects.toThrow('EXPORT_QUEUE_URL is not available in this function');
    } else {
      expect(h.main.envs['start-job'].EXPORT_QUEUE_URL).toBe(h.aws.queueUrl('export'));
    }
    // The inspection runtime has it all.
    await expect(h.main.runtime.webhookReceiver()).resolves.toMatchObject({ secret: expect.any(String) });
  });

  it("plans a run's export with the export function's deployed environment, which a full environment would hide", async () => {
    const spec = specForSource(h.main.runtime.config, h.main.runtime.config.sources[0]!);
    const exportRuntime = (env: NodeJS.ProcessEnv) => createLambdaRuntime(env, FUNCTION_PARTS.export, silentLogger);

    // As deployed: only the API key is read (the export function neither has nor needs the path token).
    const before = h.aws.secretReads();
    const deps = await exportRuntime(h.functionEnv('export')).depsFor(spec);
    expect(deps.target).toBeDefined();
    expect(h.aws.secretReads() - before).toBe(1);

    // Broken on purpose: code that builds a notifications URL in the export function (what its
    // depsFor used to do) needs the path token, which the export function is not deployed with.
    const broken = exportRuntime({ ...h.functionEnv('export'), WEBHOOK_URL: h.webhookUrl });
    await expect(broken.depsFor(spec)).rejects.toThrow('WEBHOOK_SECRET_ARN is not available in this function');
    // The former harness (one full environment, every part, for every handler) did not see it.
    await expect(createLambdaRuntime(h.env, allParts, silentLogger).depsFor(spec)).resolves.toBeDefined();
  });
});

describe('a function environment as deployed', () => {
  it('takes references from the harness, literals from the template, local settings from the process, nothing else', () => {
    const env = deployedEnv(
      'export',
      { BRIDGE_CONFIG: '{"deployed":true}', EXPORT_QUEUE_URL: { Ref: 'ExportQueue' } },
      {
        BRIDGE_CONFIG: '{"harness":true}',
        EXPORT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/export',
        WEBHOOK_SECRET_ARN: 'arn:webhook-secret',
        AWS_REGION: 'us-east-1',
        SQS_ENDPOINT: 'http://127.0.0.1:1',
        ROBOFLOW_API_URL: 'http://127.0.0.1:2',
      },
      ['ROBOFLOW_API_URL'],
    );
    expect(env).toEqual({
      BRIDGE_CONFIG: '{"deployed":true}',
      EXPORT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/export',
      AWS_REGION: 'us-east-1',
      SQS_ENDPOINT: 'http://127.0.0.1:1',
      ROBOFLOW_API_URL: 'http://127.0.0.1:2',
    });
  });

  it('fails loudly on a variable the harness has no value for (a harness gap)', () => {
    expect(() => deployedEnv('export', { NEW_SECRET_ARN: { Ref: 'NewSecret' } }, { AWS_REGION: 'us-east-1' })).toThrow(
      'harness: the export function is deployed with NEW_SECRET_ARN ({"Ref":"NewSecret"}), but the harness has no value for it',
    );
  });
});
