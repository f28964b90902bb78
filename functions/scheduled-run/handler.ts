import type { Context } from 'aws-lambda';
import { runScheduledSource, scheduledRunId } from '../../shared/run/scheduled-run';
import { ScheduledInput } from '../../shared/runtime/events';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import type { InvocationContext } from '../../shared/runtime/observability';
import { yieldWhenLow } from '../../shared/runtime/time-budget';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import { secretsManager } from '../../shared/runtime/aws-secrets';
import { bucketStores } from '../../shared/runtime/bucket-stores';
import type { RuntimeParts } from '../../shared/runtime/parts';

/** EventBridge schedule tick for one source: submit what is new, continue later if the listing is long. */
export function createHandler(runtime: () => LambdaRuntime) {
  return async (event: unknown, context: InvocationContext & Pick<Context, 'getRemainingTimeInMillis'>) => {
    const rt = runtime();
    return rt.observe.invocation(context, async () => {
      const input = ScheduledInput.parse(event);
      const tick = input.time ? new Date(input.time) : new Date(Math.floor(Date.now() / 60_000) * 60_000);
      return rt.observe.forRun(scheduledRunId(input.sourceId, tick), () => runScheduledSource(rt, input.sourceId, tick, yieldWhenLow(context)));
    });
  };
}

/** Only the SDK clients this function uses (queues, secrets, stores); the test harness builds the function with these too. */
export const parts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager, stores: bucketStores };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
