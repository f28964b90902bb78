import type { BridgeConfig } from '../config/bridge-config';
import type { BucketLocation } from '../location';
import type { Logger } from '../log';
import type { ObjectStore } from '../storage/port';
import type { QueueSender } from './queue';

export type AwsSettings = { region: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };

/**
 * The optional pieces of a function's runtime, each bringing its own AWS SDK client. A handler
 * passes only the parts it uses, so its bundle carries no SDK it never calls.
 */
export interface RuntimeParts {
  /** Secrets Manager: a reader per secret, fetched once per container. */
  secrets?: (aws: AwsSettings, endpoint?: string) => (secretId: string) => () => Promise<string>;
  /** SQS: a sender per queue URL. */
  queues?: (aws: AwsSettings, endpoint?: string) => (queueUrl: string) => QueueSender;
  /** Buckets (S3, S3-compatible, GCS): a store per location. */
  stores?: (context: StoresContext) => (location: BucketLocation) => ObjectStore;
}

export interface StoresContext {
  processEnv: NodeJS.ProcessEnv;
  config: BridgeConfig;
  log: Logger;
  /** The GCS credentials secret, when this function has one. */
  gcsSecret?: () => Promise<string>;
  gcsEndpoint?: string;
}
