import { handleWebhook } from '../../shared/run/webhook-function';
import { webhookRequestOf } from '../../shared/runtime/events';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import type { InvocationContext } from '../../shared/runtime/observability';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import { secretsManager } from '../../shared/runtime/aws-secrets';
import type { RuntimeParts } from '../../shared/runtime/parts';

interface FunctionUrlReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Function URL for the target's notifications: verify, claim once, queue the follow-up, answer. */
export function createHandler(runtime: () => LambdaRuntime) {
  return async (event: unknown, context?: InvocationContext & { getRemainingTimeInMillis(): number }): Promise<FunctionUrlReply> => {
    const rt = runtime();
    return rt.observe.invocation(context, async () => {
      let request;
      try {
        request = webhookRequestOf(event);
      } catch {
        return { statusCode: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"not a Function URL request"}' };
      }
      const reply = await handleWebhook(rt, await rt.webhookReceiver(), request, context?.getRemainingTimeInMillis());
      return { statusCode: reply.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(reply.body) };
    });
  };
}

/** Only the SDK clients this function uses (queues, secrets); the test harness builds the function with these too. */
export const parts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
