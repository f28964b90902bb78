import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientSettings } from '../aws-settings';
import { parseBridgeConfig } from '../config/bridge-config';
import { RuntimeEnv } from '../config/runtime-env';
import type { Logger } from '../log';
import { noProgress } from '../progress';
import { registerSecrets } from '../scrub-secrets';
import type { BridgeDeps } from '../run/deps';
import type { ServerlessPorts } from '../run/serverless-ports';
import { createDocumentClient, DynamoObjectLedger, DynamoPendingObjects, DynamoStateStore } from '../state/dynamo';
import type { RunSpec, TargetSpec } from '../state/run-record';
import { createTarget } from '../targets/create-target';
import type { BatchTarget } from '../targets/port';
import { webhookParserFor, type WebhookParser } from '../targets/webhook-parser';
import { webhookPath } from '../webhook/receive';
import type { RuntimeParts } from './parts';
import { plainObservability, powertoolsObservability, type Observability } from './observability';
import type { QueueSender } from './queue';
import { traced } from './tracing';

export interface LambdaRuntime extends ServerlessPorts {
  /** The webhook path token and the configured target's verification and parsing. */
  webhookReceiver(): Promise<{ secret: string; parse: WebhookParser }>;
  /** Around each invocation and each run's work: log context, trace, metrics flushed (see Observability). */
  observe: Pick<Observability, 'invocation' | 'forRun'>;
}

/**
 * Everything a function needs, built once per cold start from its environment: configuration,
 * logs, metrics and traces (Powertools, unless the caller gives a logger or its own observability),
 * DynamoDB state always; queues, secrets and bucket stores only when the function passes those
 * parts. Secrets are fetched on first use and kept for the life of the container.
 */
export function createLambdaRuntime(processEnv: NodeJS.ProcessEnv, parts: RuntimeParts, observed: Logger | Observability = powertoolsObservability(processEnv)): LambdaRuntime {
  const observability = 'invocation' in observed ? observed : plainObservability(observed);
  const { log, metrics } = observability;
  const parsed = RuntimeEnv.safeParse(processEnv);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`function environment: ${issue.path.join('.')}: ${issue.message}`);
  }
  const env = parsed.data;
  const config = parseBridgeConfig(JSON.parse(env.BRIDGE_CONFIG));

  const aws = awsClientSettings(processEnv);
  const dynamo = createDocumentClient(traced(new DynamoDBClient({ ...aws, endpoint: env.DYNAMODB_ENDPOINT })));
  const state = new DynamoStateStore(dynamo, env.STATE_TABLE);
  const ledger = new DynamoObjectLedger(dynamo, env.STATE_TABLE);

  // Every secret read (and the function's own AWS credentials) is registered for scrubbing remote messages and logs.
  registerSecrets(processEnv.AWS_SECRET_ACCESS_KEY, processEnv.AWS_SESSION_TOKEN);
  const readSecret = parts.secrets?.(aws, env.SECRETS_ENDPOINT);
  const secret = (arn: string | undefined, name: string) => {
    const read = arn && readSecret ? readSecret(arn) : unavailable<string>(name);
    return async () => {
      const value = await read();
      registerSecrets(value);
      return value;
    };
  };
  const apiKey = secret(env.TARGET_API_KEY_SECRET_ARN, 'TARGET_API_KEY_SECRET_ARN');
  const webhookSecret = secret(env.WEBHOOK_SECRET_ARN, 'WEBHOOK_SECRET_ARN');
  const signingSecret = env.TARGET_SIGNING_SECRET_ARN ? secret(env.TARGET_SIGNING_SECRET_ARN, 'TARGET_SIGNING_SECRET_ARN') : async () => undefined;
  const queueFor = parts.queues?.(aws, env.SQS_ENDPOINT);
  const queue = (url: string | undefined, name: string): QueueSender => (url && queueFor ? queueFor(url) : { send: unavailable(name) });
  const store =
    parts.stores?.({
      processEnv,
      config,
      log,
      gcsSecret: env.GCS_CREDENTIALS_SECRET_ARN ? secret(env.GCS_CREDENTIALS_SECRET_ARN, 'GCS_CREDENTIALS_SECRET_ARN') : undefined,
      gcsEndpoint: env.GCS_ENDPOINT,
    }) ??
    (() => {
      throw new Error('bucket access is not available in this function');
    });

  // One adapter per target spec (runs carry their own), built on first use; a failed build is retried.
  const targets = new Map<string, Promise<BatchTarget>>();
  const { apiUrl, ...deployed } = config.target;
  const targetFor = (spec: TargetSpec) => {
    if (spec.name !== deployed.name) {
      return Promise.reject(new Error(`the run targets ${spec.name}, but this deployment is configured for ${deployed.name}`));
    }
    const key = JSON.stringify(spec);
    let target = targets.get(key);
    if (!target) {
      target = (async () =>
        createTarget(
          spec,
          {
            apiKey: await apiKey(),
            apiUrl,
            extendWorkspaceId: deployed.name === 'extend' ? deployed.workspaceId : undefined,
            llamaProjectId: deployed.name === 'llamacloud' ? deployed.projectId : undefined,
            allowHttpReferences: deployed.name === 'roboflow' ? deployed.allowHttpReferences : undefined,
            onRetry: (service, notice) => log.warn(`${service} call retried`, { ...notice }),
          },
          {
            // Only the functions that hand the target a notifications URL know the path token.
            notificationsUrl: env.WEBHOOK_URL ? `${env.WEBHOOK_URL.replace(/\/+$/, '')}${webhookPath(await webhookSecret())}` : undefined,
            signingSecret: await signingSecret(),
          },
        ))();
      target.catch(() => targets.delete(key));
      targets.set(key, target);
    }
    return target;
  };

  return {
    config,
    log,
    metrics,
    observe: observability,
    state,
    pending: new DynamoPendingObjects(dynamo, env.STATE_TABLE),
    queues: {
      submissions: queue(env.SUBMISSIONS_QUEUE_URL, 'SUBMISSIONS_QUEUE_URL'),
      startJob: queue(env.START_JOB_QUEUE_URL, 'START_JOB_QUEUE_URL'),
      export: queue(env.EXPORT_QUEUE_URL, 'EXPORT_QUEUE_URL'),
      partitions: queue(env.PARTITIONS_QUEUE_URL, 'PARTITIONS_QUEUE_URL'),
    },
    webhookReceiver: async () => ({ secret: await webhookSecret(), parse: webhookParserFor(config.target.name, await signingSecret()) }),
    storeFor: (location) => store(location),
    depsFor: async (spec: Pick<RunSpec, 'source' | 'dest' | 'target' | 'inventory'>): Promise<BridgeDeps> => ({
      source: store(spec.source),
      dest: store(spec.dest),
      inventory: spec.inventory ? store({ scheme: 's3', bucket: spec.inventory.bucket, prefix: '' }) : undefined,
      state,
      ledger,
      target: await targetFor(spec.target),
      log,
      metrics,
      progress: noProgress,
      pageSize: config.listPageSize,
      chunkSize: config.referencesPerFile,
      exportLimits: config.exportLimits,
    }),
  };
}

function unavailable<T>(name: string): () => Promise<T> {
  return () => Promise.reject(new Error(`${name} is not available in this function`));
}

/** Caches one value per container (cold start), created on first use. */
export function perContainer<T>(create: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: create() }).v;
}
