import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as continueSubmissionFn from '../../functions/continue-submission/handler';
import * as exportFn from '../../functions/export/handler';
import * as objectCreatedFn from '../../functions/object-created/handler';
import * as scheduledRunFn from '../../functions/scheduled-run/handler';
import * as startJobFn from '../../functions/start-job/handler';
import * as submitPartitionFn from '../../functions/submit-partition/handler';
import * as webhookFn from '../../functions/webhook/handler';
import type { BridgeFunctionName } from '../../infra/bucket-bridge';
import { startExtendEmulator, type ExtendEmulatorOptions, type RunningExtendEmulator } from '../../sandbox/extend-emulator';
import { startLlamaCloudEmulator, type LlamaEmulatorOptions, type RunningLlamaEmulator } from '../../sandbox/llamacloud-emulator';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import type { EmulatorOptions } from '../../sandbox/roboflow-emulator';
import type { BridgeConfigInput } from '../../shared/config/bridge-config';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { silentLogger } from '../../shared/log';
import { createLambdaRuntime, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { startDynalite } from './dynalite';
import { startFakeAws, type FakeAws, type QueuedMessage } from './fake-aws';
import { startS3Proxy } from './s3-proxy';
import { allParts } from '../../shared/runtime/all-parts';
import type { RuntimeParts } from '../../shared/runtime/parts';
import { deployedEnv, FUNCTION_NAMES, synthesizeEnvironments } from './deployed-env';

/** The runtime parts each function's module builds its runtime with (as deployed). */
export const FUNCTION_PARTS: Readonly<Record<BridgeFunctionName, RuntimeParts>> = {
  'scheduled-run': scheduledRunFn.parts,
  'continue-submission': continueSubmissionFn.parts,
  'object-created': objectCreatedFn.parts,
  webhook: webhookFn.parts,
  'start-job': startJobFn.parts,
  export: exportFn.parts,
  'submit-partition': submitPartitionFn.parts,
};

const QUEUE_MAX: Record<string, number> = {
  submissions: MAX_RECEIVES.submissions,
  'object-events': MAX_RECEIVES.objectEvents,
  'start-job': MAX_RECEIVES.startJob,
  export: MAX_RECEIVES.export,
  partitions: MAX_RECEIVES.partitions,
};

/** The webhook path token (Secrets Manager): notifications go to `<front>/webhooks/<token>`. */
export const WEBHOOK_TOKEN = 'w'.repeat(48);

export type HarnessTarget = 'roboflow' | 'extend' | 'llamacloud';

export interface HarnessOptions {
  /** Overrides of the bridge configuration (sources, target, sizes...). */
  config?: Partial<BridgeConfigInput>;
  /** The deployment's target (default roboflow); its emulator answers on loopback. */
  target?: HarnessTarget;
  /** Roboflow emulator options (it runs with the local stack whatever the target). */
  emulator?: Partial<EmulatorOptions>;
  /** Extend emulator options (target `extend`). */
  extend?: Partial<ExtendEmulatorOptions>;
  /** LlamaCloud emulator options (target `llamacloud`). */
  llamacloud?: Partial<LlamaEmulatorOptions>;
  /** The functions reach S3 through a proxy that can break listings on demand. */
  s3Proxy?: boolean;
  /** Roboflow: the deployment submits the local S3 server's plain-http URLs (default true). */
  allowHttpReferences?: boolean;
  /**
   * Handlers log, count and trace as deployed (Powertools: JSON log lines and EMF metrics on
   * stdout); by default they log nothing and publish no metrics.
   */
  powertools?: boolean;
}

/** The configured target: its part of the configuration, its secrets' environment and its emulator. */
interface TargetSetup {
  config: Pick<BridgeConfigInput, 'sources'> & Partial<BridgeConfigInput>;
  env: NodeJS.ProcessEnv;
  extend?: RunningExtendEmulator;
  llamacloud?: RunningLlamaEmulator;
  close(): Promise<void>;
}

const API_KEY_ARN = 'arn:target-api-key';
const SIGNING_SECRET_ARN = 'arn:target-signing-secret';
/** Where document targets read from (a documents source; media follows the target). */
const DOCUMENTS_SOURCE = { id: 'docs', bucket: 'media', prefix: 'incoming/', schedule: 'rate(1 hour)' };

/**
 * Starts the target's emulator (the Extend one posts to the endpoint "registered in its dashboard":
 * the front's webhook URL) and stores its API key, and Extend's signing secret, as secrets.
 */
async function startTarget(name: HarnessTarget, stack: LocalStack, aws: FakeAws, notificationsUrl: string, options: HarnessOptions): Promise<TargetSetup> {
  const apiKey = `${name}-${randomUUID()}`;
  aws.putSecret(API_KEY_ARN, name === 'roboflow' ? stack.apiKey : apiKey);
  const env = { TARGET_API_KEY_SECRET_ARN: API_KEY_ARN };
  switch (name) {
    case 'roboflow':
      return {
        config: {
          sources: [{ id: 'cams', bucket: 'media', prefix: 'incoming/', media: 'images', schedule: 'rate(1 hour)', onObjectCreated: true }],
          // The local S3 server signs plain-http URLs: opted in, as a private endpoint would be.
          target: {
            name: 'roboflow',
            workspace: SANDBOX_WORKSPACE,
            workflowId: SANDBOX_WORKFLOW,
            apiUrl: stack.roboflow.url,
            allowHttpReferences: options.allowHttpReferences ?? true,
          },
        },
        env,
        close: async () => {},
      };
    case 'extend': {
      const extend = await startExtendEmulator({ runDelayMs: 10, ...options.extend, apiKey, webhookUrl: notificationsUrl });
      aws.putSecret(SIGNING_SECRET_ARN, extend.signingSecret);
      return {
        config: { sources: [DOCUMENTS_SOURCE], target: { name: 'extend', processor: { kind: 'extract', id: 'ex_emulated' }, apiUrl: extend.url } },
        env: { ...env, TARGET_SIGNING_SECRET_ARN: SIGNING_SECRET_ARN },
        extend,
        close: () => extend.close(),
      };
    }
    case 'llamacloud': {
      // LlamaCloud posts to the URL given at batch creation, signed with the secret given there (ours).
      const llamacloud = await startLlamaCloudEmulator({ jobDelayMs: 10, ...options.llamacloud, apiKey });
      aws.putSecret(SIGNING_SECRET_ARN, randomUUID());
      return {
        config: { sources: [DOCUMENTS_SOURCE], target: { name: 'llamacloud', jobType: 'parse_v2', configurationId: 'cfg-PARSE_AGENTIC', apiUrl: llamacloud.url } },
        env: { ...env, TARGET_SIGNING_SECRET_ARN: SIGNING_SECRET_ARN },
        llamacloud,
        close: () => llamacloud.close(),
      };
    }
  }
}

export interface Delivery {
  queue: string;
  body: unknown;
  receiveCount: number;
  failed: boolean;
}

/**
 * The deployed bridge on loopback: every handler with the real runtime (dynalite, local S3,
 * SQS/Secrets fakes, the target's emulator: Roboflow by default, or Extend or LlamaCloud), a
 * node:http front turning requests into Function URL events for the webhook handler, and a queue
 * pump passing each sent message to its consumer as an SQS event (retries and dead-letter queue
 * included). Each handler runs as deployed: with only the environment variables the synthesized
 * stack gives its function (plus local endpoints and AWS settings) and only its module's `parts`.
 */
export async function startServerlessHarness(options: HarnessOptions = {}) {
  const stack: LocalStack = await startLocalStack({ buckets: ['media', 'results'], emulator: { ingestDelayMs: 10, jobStageDelayMs: 20, ...options.emulator } });
  // Optionally, the functions reach S3 through a proxy that can break listings on demand.
  const proxy = options.s3Proxy ? await startS3Proxy(stack.s3.endpoint) : undefined;
  const dynamo = await startDynalite();
  const aws: FakeAws = await startFakeAws();
  const table = await dynamo.createStateTable('bridge-state');
  aws.putSecret('arn:webhook-secret', WEBHOOK_TOKEN);

  let webhookHandler: ReturnType<typeof webhookFn.createHandler> | undefined;
  const front: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
    const result = await webhookHandler!({
      version: '2.0',
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
      isBase64Encoded: false,
      requestContext: { http: { method: req.method ?? 'GET', path: url.pathname, sourceIp: '127.0.0.1' } },
    });
    res.writeHead(result.statusCode, result.headers).end(result.body);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}/`;
  const target = await startTarget(options.target ?? 'roboflow', stack, aws, `${webhookUrl}webhooks/${WEBHOOK_TOKEN}`, options);

  const config: BridgeConfigInput = {
    destination: { bucket: 'results', prefix: 'out/' },
    debounce: { quietSeconds: 1, maxObjects: 1000 },
    ...target.config,
    ...options.config,
  };
  // The real stack for this configuration: which environment variables each function is deployed with.
  const deployed = synthesizeEnvironments(config);
  /**
   * The harness's values for every environment variable (the template only holds references for
   * most). Handlers get a subset: see `functionEnv`; the inspection runtime gets it all.
   */
  // The CLI's plain-http opt-in stays out: deployed functions take it from the configuration.
  const stackEnv = Object.fromEntries(Object.entries(stack.env).filter(([name]) => name !== 'BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES'));
  const env: NodeJS.ProcessEnv = {
    ...stackEnv,
    ...target.env,
    AWS_ENDPOINT_URL_S3: proxy?.url ?? stack.s3.endpoint,
    // What the stack deploys: the parsed configuration.
    BRIDGE_CONFIG: deployed.bridgeConfig,
    STATE_TABLE: table,
    WEBHOOK_SECRET_ARN: 'arn:webhook-secret',
    WEBHOOK_URL: webhookUrl,
    SUBMISSIONS_QUEUE_URL: aws.queueUrl('submissions'),
    START_JOB_QUEUE_URL: aws.queueUrl('start-job'),
    EXPORT_QUEUE_URL: aws.queueUrl('export'),
    PARTITIONS_QUEUE_URL: aws.queueUrl('partitions'),
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: aws.endpoint,
    SECRETS_ENDPOINT: aws.endpoint,
  };
  const localNames = Object.keys(stackEnv);
  /**
   * A function's environment as deployed: the names the template gives it (values from `env`, read
   * now, so tests may add local settings such as GCS_ENDPOINT before building a container), plus
   * the local settings every process needs.
   */
  const functionEnv = (name: BridgeFunctionName): NodeJS.ProcessEnv => deployedEnv(name, deployed.variables[name], env, localNames);
  // A name the harness has no value for fails here, at start.
  for (const name of FUNCTION_NAMES) functionEnv(name);

  /**
   * A fresh container of every function: each handler with its own runtime, built from its
   * deployed environment and its module's parts. `runtime` is a full-environment runtime with
   * every part, for tests to inspect state; no handler uses it.
   */
  const container = () => {
    const envs = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, functionEnv(name)])) as Record<BridgeFunctionName, NodeJS.ProcessEnv>;
    const runtimes = Object.fromEntries(
      FUNCTION_NAMES.map((name) => [name, createLambdaRuntime(envs[name], FUNCTION_PARTS[name], options.powertools ? undefined : silentLogger)]),
    ) as Record<BridgeFunctionName, LambdaRuntime>;
    return {
      runtime: createLambdaRuntime(env, allParts, silentLogger),
      envs,
      runtimes,
      scheduledRun: scheduledRunFn.createHandler(() => runtimes['scheduled-run']),
      continueSubmission: continueSubmissionFn.createHandler(() => runtimes['continue-submission']),
      objectCreated: objectCreatedFn.createHandler(() => runtimes['object-created']),
      webhook: webhookFn.createHandler(() => runtimes.webhook),
      startJob: startJobFn.createHandler(() => runtimes['start-job']),
      export: exportFn.createHandler(() => runtimes.export),
      submitPartition: submitPartitionFn.createHandler(() => runtimes['submit-partition']),
    };
  };
  const main = container();
  webhookHandler = main.webhook;

  const consumers: Record<string, (event: SQSEvent) => Promise<SQSBatchResponse>> = {
    submissions: (e) => main.continueSubmission(e, { getRemainingTimeInMillis: () => 900_000 }),
    'object-events': (e) => main.objectCreated(e),
    'start-job': (e) => main.startJob(e),
    export: (e) => main.export(e, { getRemainingTimeInMillis: () => 900_000 }),
    partitions: (e) => main.submitPartition(e, { getRemainingTimeInMillis: () => 900_000 }),
  };
  /**
   * Test hooks on the queues: `onSent` decides what becomes of each message sent (return it to
   * deliver it, nothing to drop it, it twice to deliver a duplicate); the due messages of the
   * `concurrent` queues are delivered all at once rather than one after the other.
   */
  const queueFaults: { onSent: (m: QueuedMessage) => QueuedMessage[]; concurrent: Set<string> } = { onSent: (m) => [m], concurrent: new Set() };
  const deliveries: Delivery[] = [];
  const deadLetters: Array<{ queue: string; body: unknown }> = [];
  /** Sent (or retried) messages not delivered yet; a message is due once its delay has passed. */
  const waiting: Array<QueuedMessage & { receiveCount: number }> = [];

  /** Hands one message to its queue's consumer as an SQS event; failed ones are retried, then dead-lettered. */
  async function deliver(message: QueuedMessage & { receiveCount: number }) {
    const event: SQSEvent = {
      Records: [
        {
          messageId: message.messageId,
          receiptHandle: randomUUID(),
          body: message.body,
          attributes: {
            ApproximateReceiveCount: String(message.receiveCount),
            SentTimestamp: String(message.sentAt),
            SenderId: 'test',
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${message.queue}`,
          awsRegion: 'us-east-1',
        },
      ],
    };
    const response = await consumers[message.queue]!(event);
    const failed = response.batchItemFailures.some((f) => f.itemIdentifier === message.messageId);
    deliveries.push({ queue: message.queue, body: JSON.parse(message.body), receiveCount: message.receiveCount, failed });
    if (!failed) return;
    if (message.receiveCount >= QUEUE_MAX[message.queue]!) deadLetters.push({ queue: message.queue, body: JSON.parse(message.body) });
    else waiting.push({ ...message, receiveCount: message.receiveCount + 1, sentAt: Date.now(), delaySeconds: 0 });
  }

  /** Pumps every queue until `done()` holds, within a deadline. */
  async function pump(done: () => Promise<boolean>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await done()) return;
      waiting.push(...aws.take().flatMap((m) => queueFaults.onSent(m)).map((m) => ({ ...m, receiveCount: 1 })));
      const now = Date.now();
      const due = waiting.filter((m) => now >= m.sentAt + m.delaySeconds * 1000);
      for (const m of due) waiting.splice(waiting.indexOf(m), 1);
      await Promise.all(due.filter((m) => queueFaults.concurrent.has(m.queue)).map((m) => deliver(m)));
      for (const m of due.filter((d) => !queueFaults.concurrent.has(d.queue))) await deliver(m);
      if (due.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('serverless pump: timed out');
  }

  return {
    stack,
    proxy,
    dynamo,
    aws,
    env,
    config,
    /** What the synthesized stack gives each function (variables as in the template) and how long synthesis took. */
    deployed,
    functionEnv,
    webhookUrl,
    /** The Extend emulator (target `extend`). */
    extend: target.extend,
    /** The LlamaCloud emulator (target `llamacloud`). */
    llamacloud: target.llamacloud,
    main,
    container,
    deliveries,
    deadLetters,
    /** Each queue's consumer (replaceable, e.g. by a function of another container). */
    consumers,
    queueFaults,
    pump,
    deliver,
    waiting,
    context: (remaining: () => number = () => 900_000) => ({ getRemainingTimeInMillis: remaining }),
    close: async () => {
      // The emulator first: it stops posting webhooks to the front.
      await target.close();
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await proxy?.close();
      await aws.close();
      await dynamo.close();
      await stack.close();
    },
  };
}

export type ServerlessHarness = Awaited<ReturnType<typeof startServerlessHarness>>;
