import type { Context, SQSEvent } from 'aws-lambda';
import { MAX_RECEIVES } from '../../shared/config/queues';
import { handleExport } from '../../shared/run/workers';
import { createLambdaRuntime, perContainer, type LambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { runIdOf, type InvocationContext } from '../../shared/runtime/observability';
import { ExportMessage } from '../../shared/runtime/messages';
import { processRecords } from '../../shared/runtime/sqs-batch';
import { budgetOf, type BudgetSettings } from '../../shared/runtime/time-budget';
import { sqsQueues } from '../../shared/runtime/aws-queues';
import { secretsManager } from '../../shared/runtime/aws-secrets';
import { bucketStores } from '../../shared/runtime/bucket-stores';
import type { RuntimeParts } from '../../shared/runtime/parts';

/**
 * `export` queue: plan a finished job's export (one message per result file), or copy one file
 * within the invocation's time (`budget`: the time kept back to record outcomes and hand work on).
 */
export function createHandler(runtime: () => LambdaRuntime, budget: BudgetSettings = {}) {
  return async (event: SQSEvent, context: InvocationContext & Pick<Context, 'getRemainingTimeInMillis'>) => {
    const rt = runtime();
    return rt.observe.invocation(context, () =>
      processRecords(event, ExportMessage, MAX_RECEIVES.export, rt.log, (message, record) =>
        rt.observe.forRun(runIdOf(message), () => handleExport(rt, message, record, budgetOf(context, budget))),
      ),
    );
  };
}

/** Only the SDK clients this function uses (queues, secrets, stores); the test harness builds the function with these too. */
export const parts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager, stores: bucketStores };

export const handler = createHandler(perContainer(() => createLambdaRuntime(process.env, parts)));
