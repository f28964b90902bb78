import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseBridgeConfig, type BridgeConfig } from '../config/bridge-config';
import { RuntimeEnv } from '../config/runtime-env';
import type { BucketLocation } from '../location';
import { jsonLogger, type Logger } from '../log';
import { noProgress } from '../progress';
import type { BridgeDeps } from '../run/deps';
import type { ServerlessPorts } from '../run/serverless-ports';
import { createDocumentClient, DynamoObjectLedger, DynamoPendingObjects, DynamoStateStore } from '../state/dynamo';
import { parseGcsCredentials, type GcsSettings } from '../storage/gcs-options';
import { awsClientSettings, s3SettingsFromEnv } from '../storage/s3-client';
import { StoreFactory, type LocationOptions } from '../storage/store-factory';
import { RoboflowClient } from '../targets/roboflow/client';
import { RoboflowTarget } from '../targets/roboflow/target';
import { webhookPath } from '../webhook/receive';
import { SqsQueue, type QueueSender } from './queue';
import { cachedSecret } from './secrets';

export interface LambdaRuntime extends ServerlessPorts {
  webhookSecret(): Promise<string>;
}

/**
 * Everything a function needs, built once per cold start from its environment. Clients are created
 * here; secrets are fetched on first use and kept for the life of the container.
 */
// Raw JSON lines (not console.log, which Lambda prefixes with time and request id), so the
// deployment's metric filters can match fields such as `$.message = "run failed"`.
const lambdaLogger = () => jsonLogger('info', (line) => process.stdout.write(line + '\n'));

export function createLambdaRuntime(processEnv: NodeJS.ProcessEnv, log: Logger = lambdaLogger()): LambdaRuntime {
  const parsed = RuntimeEnv.safeParse(processEnv);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`function environment: ${issue.path.join('.')}: ${issue.message}`);
  }
  const env = parsed.data;
  const config = parseBridgeConfig(JSON.parse(env.BRIDGE_CONFIG));

  const aws = awsClientSettings(processEnv);
  const dynamo = createDocumentClient(new DynamoDBClient({ ...aws, endpoint: env.DYNAMODB_ENDPOINT }));
  const state = new DynamoStateStore(dynamo, env.STATE_TABLE);
  const ledger = new DynamoObjectLedger(dynamo, env.STATE_TABLE);
  const sqs = new SQSClient({ ...aws, endpoint: env.SQS_ENDPOINT });
  const secrets = new SecretsManagerClient({ ...aws, endpoint: env.SECRETS_ENDPOINT });
  const apiKey = env.ROBOFLOW_API_KEY_SECRET_ARN ? cachedSecret(secrets, env.ROBOFLOW_API_KEY_SECRET_ARN) : missing('ROBOFLOW_API_KEY_SECRET_ARN');
  const webhookSecret = env.WEBHOOK_SECRET_ARN ? cachedSecret(secrets, env.WEBHOOK_SECRET_ARN) : missing('WEBHOOK_SECRET_ARN');
  const queue = (url: string | undefined, name: string): QueueSender =>
    url ? new SqsQueue(sqs, url) : { send: () => Promise.reject(new Error(`${name} is not set for this function`)) };

  let target: Promise<RoboflowTarget> | undefined;
  const targetOnce = () =>
    (target ??= (async () => {
      const client = new RoboflowClient({
        apiKey: await apiKey(),
        workspace: config.workspace,
        apiUrl: config.roboflowApiUrl,
        onRetry: ({ path, attempt, delayMs, reason }) => log.warn('Roboflow call retried', { path, attempt, delayMs, reason }),
      });
      const notificationsUrl = env.WEBHOOK_URL ? `${env.WEBHOOK_URL.replace(/\/+$/, '')}${webhookPath(await webhookSecret())}` : undefined;
      return new RoboflowTarget(client, notificationsUrl);
    })().catch((err) => {
      target = undefined;
      throw err;
    }));

  // GCS credentials come from their secret on first use of a gs:// location (once per container).
  // Functions without the secret (start-job, export) still get ports for runs of GCS sources: they
  // never touch the source, and would fail only if they did.
  const gcsSecret = env.GCS_CREDENTIALS_SECRET_ARN ? cachedSecret(secrets, env.GCS_CREDENTIALS_SECRET_ARN) : missing('GCS_CREDENTIALS_SECRET_ARN');
  const stores = new StoreFactory({
    s3: s3SettingsFromEnv(processEnv),
    gcs: async (): Promise<GcsSettings> => {
      const parsed = parseGcsCredentials(await gcsSecret(), 'GCS credentials secret');
      return {
        ...parsed,
        apiEndpoint: env.GCS_ENDPOINT,
        userProject: config.gcsUserProject ?? parsed.userProject,
        onSignRetry: ({ attempt, delayMs, reason }) => log.warn('GCS signBlob retried', { attempt, delayMs, reason }),
      };
    },
  });
  const store = (location: BucketLocation) => stores.storeFor(location, locationOptions(config, location));
  return {
    config,
    log,
    state,
    pending: new DynamoPendingObjects(dynamo, env.STATE_TABLE),
    queues: {
      submissions: queue(env.SUBMISSIONS_QUEUE_URL, 'SUBMISSIONS_QUEUE_URL'),
      startJob: queue(env.START_JOB_QUEUE_URL, 'START_JOB_QUEUE_URL'),
      export: queue(env.EXPORT_QUEUE_URL, 'EXPORT_QUEUE_URL'),
    },
    webhookSecret,
    depsFor: async (spec): Promise<BridgeDeps> => ({
      source: store(spec.source),
      dest: store(spec.dest),
      state,
      ledger,
      target: await targetOnce(),
      log,
      progress: noProgress,
      pageSize: config.listPageSize,
      chunkSize: config.referencesPerFile,
    }),
  };
}

/** Region and requester pays of a configured bucket (sources by store and bucket, or the destination). */
function locationOptions(config: BridgeConfig, location: BucketLocation): LocationOptions {
  if (location.scheme !== 's3') return {};
  const { destination } = config;
  const source = config.sources.find((s) => s.store === 's3' && s.bucket === location.bucket);
  const found = source ?? (destination.bucket === location.bucket ? destination : undefined);
  return { region: found?.region, requesterPays: found?.requesterPays };
}

function missing(name: string): () => Promise<string> {
  return () => Promise.reject(new Error(`${name} is not set for this function`));
}

/** Caches one value per container (cold start), created on first use. */
export function perContainer<T>(create: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: create() }).v;
}
