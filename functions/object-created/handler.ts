import type { SQSEvent } from 'aws-lambda';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { recordCreatedObjects } from '../../shared/run/object-events';
import { CreatedObjectsMessage } from '../../shared/runtime/events';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import type { InvocationContext } from '../../shared/runtime/observability';
import { processRecords } from '../../shared/runtime/sqs-batch';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import type { RuntimeParts } from '../../shared/runtime/parts';

/** `object-events` queue: S3 Object Created events (EventBridge or S3 notifications) into debounced batches. */
export function createHandler(runtime: () => LambdaRuntime) {
  return async (event: SQSEvent, context?: InvocationContext) => {
    const rt = runtime();
    return rt.observe.invocation(context, () =>
      processRecords(event, CreatedObjectsMessage, MAX_RECEIVES.objectEvents, rt.log, (objects) => recordCreatedObjects(rt, objects, new Date())),
    );
  };
}

/** Only the SDK clients this function uses (queues); the test harness builds the function with these too. */
export const parts: RuntimeParts = { queues: sqsQueues };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
