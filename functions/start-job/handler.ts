import type { SQSEvent } from 'aws-lambda';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { handleStartJob } from '../../shared/run/workers';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { runIdOf, type InvocationContext } from '../../shared/runtime/observability';
import { StartJobMessage } from '../../shared/runtime/messages';
import { processRecords } from '../../shared/runtime/sqs-batch';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import { secretsManager } from '../../shared/runtime/aws-secrets';
import { bucketStores } from '../../shared/runtime/bucket-stores';
import type { RuntimeParts } from '../../shared/runtime/parts';

/** `start-job` queue: confirm a run's ingest through the API and start its job. */
export function createHandler(runtime: () => LambdaRuntime) {
  return async (event: SQSEvent, context?: InvocationContext) => {
    const rt = runtime();
    return rt.observe.invocation(context, () =>
      processRecords(event, StartJobMessage, MAX_RECEIVES.startJob, rt.log, (message, record) =>
        rt.observe.forRun(runIdOf(message), () => handleStartJob(rt, message, record)),
      ),
    );
  };
}

/**
 * Only the SDK clients this function uses (queues: Extend and LlamaCloud runs may get their export
 * planned from here; secrets, stores); the test harness builds the function with these too.
 */
export const parts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager, stores: bucketStores };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
