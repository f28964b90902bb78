import type { Context, SQSEvent } from 'aws-lambda';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { handleSubmission } from '../../shared/run/workers';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { runIdOf, type InvocationContext } from '../../shared/runtime/observability';
import { SubmissionMessage } from '../../shared/runtime/messages';
import { processRecords } from '../../shared/runtime/sqs-batch';
import { yieldWhenLow } from '../../shared/runtime/time-budget';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import { secretsManager } from '../../shared/runtime/aws-secrets';
import { bucketStores } from '../../shared/runtime/bucket-stores';
import type { RuntimeParts } from '../../shared/runtime/parts';

/** `submissions` queue: continue a checkpointed listing, or flush a source's pending object batch. */
export function createHandler(runtime: () => LambdaRuntime) {
  return async (event: SQSEvent, context: InvocationContext & Pick<Context, 'getRemainingTimeInMillis'>) => {
    const rt = runtime();
    return rt.observe.invocation(context, () =>
      processRecords(event, SubmissionMessage, MAX_RECEIVES.submissions, rt.log, (message, record) =>
        rt.observe.forRun(runIdOf(message), () => handleSubmission(rt, message, record, yieldWhenLow(context))),
      ),
    );
  };
}

/** Only the SDK clients this function uses (queues, secrets, stores); the test harness builds the function with these too. */
export const parts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager, stores: bucketStores };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
