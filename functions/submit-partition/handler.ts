import type { Context, SQSEvent } from 'aws-lambda';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { handlePartitionMessage } from '../../shared/run/partitions/partition-messages';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { runIdOf, type InvocationContext } from '../../shared/runtime/observability';
import { PartitionMessage } from '../../shared/runtime/messages';
import { processRecords } from '../../shared/runtime/sqs-batch';
import { yieldWhenLow } from '../../shared/runtime/time-budget';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import { secretsManager } from '../../shared/runtime/aws-secrets';
import { bucketStores } from '../../shared/runtime/bucket-stores';
import type { RuntimeParts } from '../../shared/runtime/parts';

/** `partitions` queue: list, sign and submit one partition of a run (joining the run after the last), or sweep a run's partitions. */
export function createHandler(runtime: () => LambdaRuntime) {
  return async (event: SQSEvent, context: InvocationContext & Pick<Context, 'getRemainingTimeInMillis'>) => {
    const rt = runtime();
    const invocation = { remainingMs: () => context.getRemainingTimeInMillis(), shouldYield: yieldWhenLow(context) };
    return rt.observe.invocation(context, () =>
      processRecords(event, PartitionMessage, MAX_RECEIVES.partitions, rt.log, (message, record) =>
        rt.observe.forRun(runIdOf(message), () => handlePartitionMessage(rt, message, record, invocation)),
      ),
    );
  };
}

/** Only the SDK clients this function uses (queues, secrets, stores); the test harness builds the function with these too. */
export const parts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager, stores: bucketStores };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
