import type { SQSEvent } from 'aws-lambda';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { handleExport } from '../../shared/run/workers';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { ExportMessage } from '../../shared/runtime/messages';
import { processRecords } from '../../shared/runtime/sqs-batch';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import { secretsManager } from '../../shared/runtime/aws-secrets';
import { bucketStores } from '../../shared/runtime/bucket-stores';
import type { RuntimeParts } from '../../shared/runtime/parts';

/** `export` queue: plan a finished job's export (one message per result file), or copy one file. */
export function createHandler(runtime: () => LambdaRuntime) {
  return async (event: SQSEvent) => {
    const rt = runtime();
    return processRecords(event.Records, ExportMessage, MAX_RECEIVES.export, rt.log, (message, record) => handleExport(rt, message, record));
  };
}

/** Only the SDK clients this function uses (queues, secrets, stores); the test harness builds the function with these too. */
export const parts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager, stores: bucketStores };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
