import { SQSClient } from '@aws-sdk/client-sqs';
import type { RuntimeParts } from './parts';
import { traced } from './tracing';
import { SqsQueue } from './queue';

/** The SQS part of a function's runtime. */
export const sqsQueues: NonNullable<RuntimeParts['queues']> = (aws, endpoint) => {
  const client = traced(new SQSClient({ ...aws, endpoint }));
  return (queueUrl) => new SqsQueue(client, queueUrl);
};
