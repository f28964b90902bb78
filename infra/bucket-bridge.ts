import { Duration, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import type { Alarm, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventField, Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { type BridgeConfig, type BridgeConfigInput, parseBridgeConfig } from '../shared/config/bridge-config';
import { MAX_RECEIVES } from '../shared/config/queues';
import type { RuntimeEnv } from '../shared/config/runtime-env';
import { SERVICE_NAME } from '../shared/config/target-config';
import { PROBE_NAME_PREFIX } from '../shared/run/preflight';
import { BridgeFunction } from './bridge-function';
import { LAMBDA_RUNTIME_NAME } from './node-runtime';
import { createBridgeAlarms } from './observability/alarms';
import { createBridgeDashboard } from './observability/dashboard';
import { bridgeServiceName } from './observability/service-name';

export interface BucketBridgeProps {
  /** The deployment's configuration (validated with `parseBridgeConfig`; the constructor throws on errors). */
  readonly config: BridgeConfigInput;
  /**
   * Secret holding the target's API key (Roboflow, Extend or LlamaCloud; the whole SecretString is the key).
   * @default a new secret with a generated placeholder value: put the real key in it after deploying
   */
  readonly apiKeySecret?: ISecret;
  /** @deprecated the name of `apiKeySecret` before other targets existed; still read. */
  readonly roboflowApiKeySecret?: ISecret;
  /**
   * Extend only: secret holding the signing secret (`wss_…`) of the webhook endpoint registered with Extend.
   * @default a new secret with a generated placeholder value: put the real signing secret in it after deploying
   */
  readonly signingSecret?: ISecret;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Where the alarms notify (alarm state only). @default no alarm actions */
  readonly alarmTopic?: ITopic;
  /**
   * Concurrent executions reserved for the webhook function, which also caps it: a flood of
   * notifications (or of requests to its public URL) is throttled (429, the sender retries) instead
   * of taking the account's whole concurrency from every other function. `false`: no reservation
   * (the account's unreserved pool, uncapped), for accounts whose concurrency quota is too low to
   * reserve any (AWS keeps at least 100 unreserved).
   * @default DEFAULT_WEBHOOK_RESERVED_CONCURRENCY (10)
   */
  readonly webhookReservedConcurrency?: number | false;
}

/** Webhook invocations take tens of milliseconds: 10 at once answer a few hundred notifications a second. */
export const DEFAULT_WEBHOOK_RESERVED_CONCURRENCY = 10;

function webhookConcurrency(value: number | false | undefined): number | undefined {
  if (value === false) return undefined;
  const reserved = value ?? DEFAULT_WEBHOOK_RESERVED_CONCURRENCY;
  if (!Number.isInteger(reserved) || reserved < 1 || reserved > 1000) {
    throw new Error(`bucket-bridge webhookReservedConcurrency: expected an integer from 1 to 1000 or false, got ${JSON.stringify(value)}`);
  }
  return reserved;
}

/** Invocations of submit-partition at once: the configured partitions, at least Lambda's minimum for an SQS event source (2). */
export function partitionConcurrency(partitions: number): number {
  return Math.max(2, partitions);
}

/**
 * The partition function's /tmp when a source reads an S3 Inventory (it copies each data file
 * there whole before reading it): `discovery.inventoryStorageMiB`; Lambda's 512 MiB otherwise.
 */
export function inventoryStorage(config: BridgeConfig): Size | undefined {
  return config.sources.some((s) => s.inventory) ? Size.mebibytes(config.discovery.inventoryStorageMiB) : undefined;
}

/** The state table's key schema (mirrors `STATE_TABLE_KEYS` in shared/state/dynamo/table.ts). */
export const STATE_TABLE_SCHEMA = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;

/** Lambda limits all environment variables of a function to 4 KB together. */
const MAX_BRIDGE_CONFIG_CHARS = 3072;

export type BridgeFunctionName =
  | 'scheduled-run'
  | 'continue-submission'
  | 'object-created'
  | 'webhook'
  | 'start-job'
  | 'export'
  | 'submit-partition';

const FUNCTION_SETTINGS: Record<BridgeFunctionName, { id: string; timeout: Duration; memorySize: number; description: string }> = {
  'scheduled-run': {
    id: 'ScheduledRun',
    timeout: Duration.minutes(15),
    memorySize: 1024,
    description: 'bucket-bridge: starts a scheduled run of one source (list, presign, submit)',
  },
  'continue-submission': {
    id: 'ContinueSubmission',
    timeout: Duration.minutes(15),
    memorySize: 1024,
    description: 'bucket-bridge: continues a run submission from its checkpoint',
  },
  'object-created': {
    id: 'ObjectCreated',
    timeout: Duration.minutes(1),
    memorySize: 512,
    description: 'bucket-bridge: debounces S3 Object Created events into runs',
  },
  webhook: {
    id: 'Webhook',
    timeout: Duration.seconds(10),
    memorySize: 512,
    description: 'bucket-bridge: receives the target\'s webhooks (secret path token, signatures)',
  },
  'start-job': {
    id: 'StartJob',
    timeout: Duration.minutes(5),
    memorySize: 512,
    description: 'bucket-bridge: starts the batch job once ingest is confirmed',
  },
  export: {
    id: 'Export',
    timeout: Duration.minutes(15),
    memorySize: 1536,
    description: 'bucket-bridge: copies result files back to the destination bucket',
  },
  'submit-partition': {
    id: 'SubmitPartition',
    timeout: Duration.minutes(15),
    memorySize: 1024,
    description: 'bucket-bridge: lists, signs and submits one partition of a run; joins the run after the last',
  },
};

export interface BridgeQueue {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
}

type EnvName = keyof RuntimeEnv;

/**
 * The serverless bridge: one DynamoDB state table, seven functions, five work queues (each with a
 * dead-letter queue), the EventBridge rules for schedules and S3 "Object Created" events, a public
 * webhook Function URL, the two secrets, alarms and a dashboard (infra/observability/).
 *
 * Sources with `onObjectCreated: true` need EventBridge notifications enabled on their bucket
 * (S3 console → Properties → Amazon EventBridge, or `Bucket({ eventBridgeEnabled: true })`):
 * the construct does not own the buckets, so it cannot turn them on.
 *
 * cdk-nag (AwsSolutions) findings that are inherent to the design are acknowledged on the
 * resources themselves, each finding id separately, with the reason next to the code that causes it.
 */
export class BucketBridge extends Construct {
  readonly config: BridgeConfig;
  readonly table: Table;
  readonly apiKeySecret: ISecret;
  /** Present when the construct created the API key secret (a placeholder to fill in). */
  readonly createdApiKeySecret?: Secret;
  /** @deprecated the name of `apiKeySecret` before other targets existed. */
  get roboflowApiKeySecret(): ISecret {
    return this.apiKeySecret;
  }
  /** @deprecated the name of `createdApiKeySecret` before other targets existed. */
  get createdRoboflowApiKeySecret(): Secret | undefined {
    return this.createdApiKeySecret;
  }
  /** Extend: the webhook endpoint's signing secret. */
  readonly signingSecret?: ISecret;
  /** Present when the construct created the signing secret (a placeholder to fill in). */
  readonly createdSigningSecret?: Secret;
  readonly webhookSecret: Secret;
  /** The GCS credentials secret (`gcsCredentialsSecretArn`), when a source reads GCS. */
  readonly gcsCredentialsSecret?: ISecret;
  readonly queues: Readonly<Record<'submissions' | 'objectEvents' | 'startJob' | 'export' | 'partitions', BridgeQueue>>;
  readonly functions: Readonly<Record<BridgeFunctionName, BridgeFunction>>;
  /** The webhook Function URL (base only; the target is given `<url>webhooks/<secret>`). */
  readonly webhookUrl: FunctionUrl;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  /**
   * The `service` dimension of every metric the functions publish: each function's
   * `POWERTOOLS_SERVICE_NAME` must be this value for the dashboard and alarms to see its metrics.
   */
  readonly serviceName: string;

  private readonly partitionForNag: string;
  private readonly acknowledged = new Set<string>();
  private readonly importedKeys = new Map<string, IKey>();

  constructor(scope: Construct, id: string, props: BucketBridgeProps) {
    super(scope, id);
    this.config = parseBridgeConfig(props.config);
    const config = this.config;
    const bridgeConfigJson = JSON.stringify(config);
    if (bridgeConfigJson.length > MAX_BRIDGE_CONFIG_CHARS) {
      throw new Error(
        `bucket-bridge config: too large for a Lambda environment variable (${bridgeConfigJson.length} characters, at most ${MAX_BRIDGE_CONFIG_CHARS})`,
      );
    }
    this.serviceName = bridgeServiceName(this);
    const partition = Stack.of(this).partition;
    this.partitionForNag = Token.isUnresolved(partition) ? '<AWS::Partition>' : partition;

    // ---- state ---------------------------------------------------------------------------------
    this.table = new Table(this, 'StateTable', {
      partitionKey: { name: STATE_TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STATE_TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: STATE_TABLE_SCHEMA.ttlAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ---- secrets (read by the functions at cold start through their ARNs) ------------------------
    const service = SERVICE_NAME[config.target.name];
    const givenKey = props.apiKeySecret ?? props.roboflowApiKeySecret;
    if (givenKey) {
      this.apiKeySecret = givenKey;
    } else {
      this.createdApiKeySecret = this.placeholderSecret(`${service}ApiKey`, `${service} API key`);
      this.apiKeySecret = this.createdApiKeySecret;
    }
    // The HMAC secret of the target's signed webhooks: Extend issues it for the registered endpoint
    // (a placeholder to fill in); LlamaCloud gets ours with each batch (generated here).
    if (config.target.name !== 'roboflow' && !props.signingSecret) {
      this.createdSigningSecret =
        config.target.name === 'extend' ? this.placeholderSecret('ExtendSigningSecret', 'signing secret of the Extend webhook endpoint') : this.llamaSigningSecret();
    }
    this.signingSecret = config.target.name === 'roboflow' ? undefined : (props.signingSecret ?? this.createdSigningSecret);
    this.webhookSecret = new Secret(this, 'WebhookSecret', {
      description: `bucket-bridge: secret path token of the webhook URL given to ${service}`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    this.acknowledge(this.webhookSecret, 'AwsSolutions-SMG4',
      'The webhook token is embedded in notification URLs already registered with running jobs and batches; rotating it automatically would reject their callbacks. Rotate by hand between runs.');
    // GCS sources: their credentials live in a secret the operator manages (service-account key or
    // signBlob configuration); only the functions that read sources get it.
    if (config.gcsCredentialsSecretArn && config.sources.some((s) => s.store === 'gcs')) {
      const arn = config.gcsCredentialsSecretArn;
      this.gcsCredentialsSecret = /-[A-Za-z0-9]{6}$/.test(arn)
        ? Secret.fromSecretCompleteArn(this, 'GcsCredentials', arn)
        : Secret.fromSecretPartialArn(this, 'GcsCredentials', arn);
    }

    // ---- queues (deliveries before dead-lettering: shared/config/queues.ts, read by the handlers too)
    const settings = FUNCTION_SETTINGS;
    const objectEventsWindow = Duration.seconds(20);
    this.queues = {
      submissions: this.bridgeQueue('Submissions', MAX_RECEIVES.submissions, settings['continue-submission'].timeout),
      objectEvents: this.bridgeQueue('ObjectEvents', MAX_RECEIVES.objectEvents, settings['object-created'].timeout, objectEventsWindow),
      startJob: this.bridgeQueue('StartJob', MAX_RECEIVES.startJob, settings['start-job'].timeout),
      export: this.bridgeQueue('Export', MAX_RECEIVES.export, settings.export.timeout),
      partitions: this.bridgeQueue('Partitions', MAX_RECEIVES.partitions, settings['submit-partition'].timeout),
    };

    // ---- functions -------------------------------------------------------------------------------
    const make = (name: BridgeFunctionName, reservedConcurrentExecutions?: number) =>
      new BridgeFunction(this, settings[name].id, {
        name,
        timeout: settings[name].timeout,
        memorySize: settings[name].memorySize,
        description: settings[name].description,
        logRetention: props.logRetention,
        environment: { BRIDGE_CONFIG: bridgeConfigJson, STATE_TABLE: this.table.tableName },
        reservedConcurrentExecutions,
        ephemeralStorageSize: name === 'submit-partition' ? inventoryStorage(config) : undefined,
      });

    // The webhook comes first: the other functions need its URL. Its URL is public: its concurrency is capped.
    const webhook = make('webhook', webhookConcurrency(props.webhookReservedConcurrency));
    this.webhookUrl = webhook.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    const functions: Record<BridgeFunctionName, BridgeFunction> = {
      'scheduled-run': make('scheduled-run'),
      'continue-submission': make('continue-submission'),
      'object-created': make('object-created'),
      webhook,
      'start-job': make('start-job'),
      export: make('export'),
      'submit-partition': make('submit-partition'),
    };
    this.functions = functions;

    for (const fn of Object.values(functions)) this.table.grantReadWriteData(fn);

    // scheduled-run and continue-submission: list/presign sources, write references files, submit,
    // then hand on: `continue` to submissions, `advance` to start-job (continue-submission also
    // flushes debounced object-created batches into runs).
    for (const name of ['scheduled-run', 'continue-submission'] as const) {
      const fn = functions[name];
      this.allowSubmitting(fn);
      this.sendTo(fn, 'SUBMISSIONS_QUEUE_URL', this.queues.submissions.queue);
      this.allowProbeRemoval(fn);
    }
    this.allowInventoryReports(functions['scheduled-run']);
    // Scheduled runs: one rule per source with a schedule, the source id as input.
    for (const source of config.sources) {
      if (!source.schedule) continue;
      new Rule(this, `Schedule-${source.id}`, {
        description: `bucket-bridge: scheduled run of source "${source.id}"`,
        schedule: Schedule.expression(source.schedule),
        // The tick's time names the run, so a redelivered or retried tick continues the same run.
        targets: [
          new LambdaFunction(functions['scheduled-run'], {
            event: RuleTargetInput.fromObject({ sourceId: source.id, time: EventField.time, id: EventField.eventId }),
          }),
        ],
      });
    }
    functions['continue-submission'].addEventSource(
      new SqsEventSource(this.queues.submissions.queue, { batchSize: 1, reportBatchItemFailures: true }),
    );

    // object-created: S3 "Object Created" (EventBridge) → object-events queue → debounced runs.
    // The source bucket must have EventBridge notifications enabled.
    for (const source of config.sources) {
      if (!source.onObjectCreated || source.store !== 's3') continue;
      new Rule(this, `ObjectCreated-${source.id}`, {
        description: `bucket-bridge: new objects under s3://${source.bucket}/${source.prefix}`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [source.bucket] },
            ...(source.prefix ? { object: { key: [{ prefix: source.prefix }] } } : {}),
          },
        },
        targets: [new SqsQueue(this.queues.objectEvents.queue)],
      });
    }
    functions['object-created'].addEventSource(
      new SqsEventSource(this.queues.objectEvents.queue, {
        batchSize: 100,
        maxBatchingWindow: objectEventsWindow,
        reportBatchItemFailures: true,
      }),
    );
    this.sendTo(functions['object-created'], 'SUBMISSIONS_QUEUE_URL', this.queues.submissions.queue);

    // webhook: authenticated by the secret path token (checked in code), so the URL itself is public;
    // Extend's and LlamaCloud's signatures are verified too.
    this.useWebhookSecret(webhook);
    this.useSigningSecret(webhook);
    this.sendTo(webhook, 'START_JOB_QUEUE_URL', this.queues.startJob.queue);
    this.sendTo(webhook, 'EXPORT_QUEUE_URL', this.queues.export.queue);

    // start-job: starts the job (its notifications URL embeds the webhook token), may write a failed run's summary.
    // Roboflow: when every notification came in but the API says ingest goes on, it queues a later
    // look at the run to itself. Batches that run from submission may all have reported before the
    // run was processing: it then plans their export.
    const startJob = functions['start-job'];
    this.useApiKey(startJob);
    this.allowDestination(startJob);
    if (config.target.name === 'roboflow') {
      this.useWebhookUrl(startJob);
      this.sendTo(startJob, 'START_JOB_QUEUE_URL', this.queues.startJob.queue);
    } else {
      this.sendTo(startJob, 'EXPORT_QUEUE_URL', this.queues.export.queue);
    }
    startJob.addEventSource(new SqsEventSource(this.queues.startJob.queue, { batchSize: 1, reportBatchItemFailures: true }));

    // export: one message per result file, fanned out by the export function itself.
    const exportFn = functions.export;
    this.useApiKey(exportFn);
    this.allowDestination(exportFn, { remove: true });
    // Extend: inputs whose signed URL expired before Extend fetched them are signed and submitted again.
    if (config.target.name === 'extend') this.allowSources(exportFn);
    this.sendTo(exportFn, 'EXPORT_QUEUE_URL', this.queues.export.queue);
    exportFn.addEventSource(new SqsEventSource(this.queues.export.queue, { batchSize: 10, reportBatchItemFailures: true }));

    // Parallel discovery: scheduled-run plans a run's partitions (a message each on `partitions`);
    // submit-partition lists, signs and submits one partition (the same as continue-submission for
    // a whole listing), hands the rest on, sweeps lost messages and joins the run after the last
    // partition (`advance` to start-job). At most `discovery.partitions` run at once: the event
    // source's maximum concurrency (Lambda's own cap on an SQS poller; 2 is its minimum).
    const partitionFn = functions['submit-partition'];
    this.sendTo(functions['scheduled-run'], 'PARTITIONS_QUEUE_URL', this.queues.partitions.queue);
    this.allowSubmitting(partitionFn);
    this.sendTo(partitionFn, 'PARTITIONS_QUEUE_URL', this.queues.partitions.queue);
    this.allowInventoryReports(partitionFn);
    partitionFn.addEventSource(
      new SqsEventSource(this.queues.partitions.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: partitionConcurrency(Math.max(config.discovery.partitions, ...config.sources.map((s) => s.partitions ?? 1))),
      }),
    );

    for (const fn of Object.values(functions)) {
      this.acknowledge(fn, 'AwsSolutions-L1',
        `Pinned to ${LAMBDA_RUNTIME_NAME} on purpose (infra/node-runtime.json): CI runs the suite on that Node and on Node 20, not yet on newer ones.`);
    }

    // ---- alarms and dashboard ----------------------------------------------------------------------
    const observed = { serviceName: this.serviceName, targetName: config.target.name, queues: this.queues, functions };
    this.alarms.push(
      ...createBridgeAlarms(this, observed, {
        topic: props.alarmTopic,
        stuckAfter: { startJob: Duration.hours(1), export: Duration.hours(1) },
      }),
    );
    this.dashboard = createBridgeDashboard(this, 'Dashboard', { ...observed, alarms: this.alarms });
  }

  // ---- permissions -------------------------------------------------------------------------------

  private setEnv(fn: BridgeFunction, name: EnvName, value: string) {
    fn.addEnvironment(name, value);
  }

  /**
   * What every function that lists, signs and submits a run's objects needs: the target's key, the
   * webhook URL it asks for notifications at, the job-start queue (the run's `advance`), its sources
   * and the destination.
   */
  private allowSubmitting(fn: BridgeFunction) {
    this.useApiKey(fn);
    this.useWebhookUrl(fn);
    this.sendTo(fn, 'START_JOB_QUEUE_URL', this.queues.startJob.queue);
    this.allowSources(fn);
    this.allowDestination(fn);
  }

  private useApiKey(fn: BridgeFunction) {
    this.apiKeySecret.grantRead(fn);
    this.setEnv(fn, 'TARGET_API_KEY_SECRET_ARN', this.apiKeySecret.secretArn);
  }

  /** A secret the operator fills in after deploying; issued and rotated by the target, not by us. */
  private placeholderSecret(id: string, what: string): Secret {
    const created = new Secret(this, id, {
      description: `bucket-bridge: ${what}. Placeholder generated at deploy: replace the value with yours.`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
    });
    this.acknowledge(created, 'AwsSolutions-SMG4',
      `The ${what} is issued by the target and rotated in its dashboard; there is no rotation Lambda that could mint a new one.`);
    return created;
  }

  private useWebhookSecret(fn: BridgeFunction) {
    this.webhookSecret.grantRead(fn);
    this.setEnv(fn, 'WEBHOOK_SECRET_ARN', this.webhookSecret.secretArn);
  }

  /** Functions that give the target a notifications URL (with the path token; LlamaCloud: and its signing secret). */
  private useWebhookUrl(fn: BridgeFunction) {
    this.useWebhookSecret(fn);
    this.setEnv(fn, 'WEBHOOK_URL', this.webhookUrl.url);
    if (this.config.target.name === 'llamacloud') this.useSigningSecret(fn);
  }

  private useSigningSecret(fn: BridgeFunction) {
    if (!this.signingSecret) return;
    this.signingSecret.grantRead(fn);
    this.setEnv(fn, 'TARGET_SIGNING_SECRET_ARN', this.signingSecret.secretArn);
  }

  private llamaSigningSecret(): Secret {
    const created = new Secret(this, 'LlamaCloudSigningSecret', {
      description: 'bucket-bridge: secret LlamaCloud signs batch webhooks with (given with each batch, generated at deploy)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    this.acknowledge(created, 'AwsSolutions-SMG4',
      'The signing secret is given to LlamaCloud with each batch; rotating it automatically would fail the signature checks of batches still running. Rotate by hand between runs.');
    return created;
  }

  private sendTo(fn: BridgeFunction, env: EnvName, queue: Queue) {
    queue.grantSendMessages(fn);
    this.setEnv(fn, env, queue.queueUrl);
  }

  private bucketArn(bucket: string) {
    return `arn:${Stack.of(this).partition}:s3:::${bucket}`;
  }

  /** s3:ListBucket on the bucket, limited to keys under `prefix` (the whole bucket when it is ""). */
  private allowList(fn: BridgeFunction, bucket: string, prefix: string) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucketArn(bucket)],
        conditions: prefix ? { StringLike: { 's3:prefix': [`${prefix}*`] } } : undefined,
      }),
    );
  }

  /**
   * Object actions on `arn:<partition>:s3:::<bucket>/<prefix>*`. The trailing wildcard stands for
   * object keys that only exist at run time, so the cdk-nag IAM5 finding for exactly that ARN is
   * acknowledged on this function's policy, with `why` as the reason.
   */
  private allowObjects(fn: BridgeFunction, bucket: string, prefix: string, actions: string[], why: string) {
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: [`${this.bucketArn(bucket)}/${prefix}*`] }));
    this.acknowledge(
      fn.executionRole.node.findChild('DefaultPolicy'),
      `AwsSolutions-IAM5[Resource::arn:${this.partitionForNag}:s3:::${bucket}/${prefix}*]`,
      why,
    );
  }

  /**
   * Listing, reading and signing the sources (S3 through the role, GCS through its credentials
   * secret), and writing the references files under the manifest prefix of each source bucket.
   */
  private allowSources(fn: BridgeFunction) {
    const config = this.config;
    if (this.gcsCredentialsSecret) {
      this.gcsCredentialsSecret.grantRead(fn);
      this.setEnv(fn, 'GCS_CREDENTIALS_SECRET_ARN', this.gcsCredentialsSecret.secretArn);
    }
    for (const source of config.sources) {
      if (source.store === 'gcs') continue; // read with the GCS credentials, not the role
      this.allowList(fn, source.bucket, source.prefix);
      this.allowObjects(fn, source.bucket, source.prefix, ['s3:GetObject'],
        `Read-only: the objects of source "${source.id}" (s3://${source.bucket}/${source.prefix}) are discovered by listing at run time and signed one by one.`);
      // References files: written (multipart), read back (HeadObject after upload) and signed.
      this.allowObjects(fn, source.bucket, config.manifestPrefix, ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        `References files are written under the manifest prefix s3://${source.bucket}/${config.manifestPrefix} with names made of the run id and chunk number.`);
    }
    this.allowKms(fn, config.sources.map((s) => s.kmsKeyArn), ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  /**
   * S3 Inventory reports of the sources that read one: the scheduled run finds the newest report's
   * folder with a delimiter listing and reads its manifest; the partition workers read the data
   * files. Reports encrypted with SSE-KMS (`inventory.kmsKeyArn`) are decrypted with that key only.
   */
  private allowInventoryReports(fn: BridgeFunction) {
    for (const source of this.config.sources) {
      if (!source.inventory) continue;
      const { bucket, prefix, kmsKeyArn } = source.inventory;
      this.allowList(fn, bucket, prefix);
      this.allowObjects(fn, bucket, prefix, ['s3:GetObject'],
        `Read-only: the S3 Inventory reports of source "${source.id}" (s3://${bucket}/${prefix}): a dated folder per report, data files named by S3.`);
      if (kmsKeyArn) this.importedKey(kmsKeyArn).grantDecrypt(fn);
    }
  }

  /** A KMS key the stack does not own, imported once by its ARN (grants go to the functions' roles only). */
  private importedKey(keyArn: string): IKey {
    let key = this.importedKeys.get(keyArn);
    if (!key) {
      key = Key.fromKeyArn(this, `ImportedKey${this.importedKeys.size}`, keyArn);
      this.importedKeys.set(keyArn, key);
    }
    return key;
  }

  /** Result files and run summaries: written (multipart), then read back to verify their size. */
  /**
   * Writes under the destination prefix, and listing there: results-by-key reads the run folder, and
   * without s3:ListBucket S3 answers a HEAD of a missing object 403 instead of 404. `remove` lets the
   * export delete what a failed copy wrote (and a write whose stored content differs from what was sent).
   */
  private allowDestination(fn: BridgeFunction, { remove = false } = {}) {
    const { bucket, prefix, kmsKeyArn } = this.config.destination;
    const actions = ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', ...(remove ? ['s3:DeleteObject'] : [])];
    this.allowObjects(fn, bucket, prefix, actions,
      `Results and run summaries are written under s3://${bucket}/${prefix}<runId>/; the file names come from the target when its work finishes.`);
    this.allowList(fn, bucket, prefix);
    this.allowKms(fn, [kmsKeyArn], ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  /** The preflight's probe object, written under the destination prefix, is removed again: delete on that name only. */
  private allowProbeRemoval(fn: BridgeFunction) {
    const { bucket, prefix } = this.config.destination;
    this.allowObjects(fn, bucket, `${prefix}${PROBE_NAME_PREFIX}`, ['s3:DeleteObject'],
      `Before a run submits anything, a probe object s3://${bucket}/${prefix}${PROBE_NAME_PREFIX}<random> checks that the destination takes writes; it is deleted again at once.`);
  }

  private allowKms(fn: BridgeFunction, keyArns: Array<string | undefined>, actions: string[]) {
    const keys = [...new Set(keyArns.filter((k): k is string => !!k))];
    if (keys.length === 0) return;
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: keys }));
  }

  // ---- queues --------------------------------------------------------------------------------

  private bridgeQueue(id: string, maxReceiveCount: number, consumerTimeout: Duration, batchingWindow?: Duration): BridgeQueue {
    const deadLetterQueue = new Queue(this, `${id}Dlq`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // AWS guidance for Lambda consumers: visibility timeout ≥ 6 × function timeout (+ batching window).
    const visibilitySeconds = 6 * consumerTimeout.toSeconds() + (batchingWindow?.toSeconds() ?? 0);
    const queue = new Queue(this, `${id}Queue`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(visibilitySeconds),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
    });
    return { queue, deadLetterQueue };
  }

  // ---- cdk-nag -----------------------------------------------------------------------------------

  /**
   * Records a cdk-nag acknowledgement on the CloudFormation resource of `scope` (its default child
   * when it is an L2), so it cannot cover anything else. Repeats of the same id are dropped.
   */
  private acknowledge(scope: IConstruct, id: string, reason: string) {
    const target = scope.node.defaultChild ?? scope;
    const key = `${target.node.path}|${id}`;
    if (this.acknowledged.has(key)) return;
    this.acknowledged.add(key);
    Validations.of(target).acknowledge({ id, reason });
  }
}
