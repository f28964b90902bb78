import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { errorMessage } from '../errors';
import type { Logger } from '../log';

export interface RecordContext {
  /** True on the delivery after which SQS moves the message to the dead-letter queue. */
  lastAttempt: boolean;
}

const receivesOf = (record: Pick<SQSRecord, 'attributes'>) => Number(record.attributes.ApproximateReceiveCount ?? '1');

/** Powertools' SQS batch processor, logging each failed message (its id, deliveries and error). */
class LoggedBatchProcessor extends BatchProcessor {
  constructor(
    private readonly log: Logger,
    schema: z.ZodType,
  ) {
    super(EventType.SQS, { parser, innerSchema: schema, transformer: 'json' });
  }

  override failureHandler(record: SQSRecord, error: Error) {
    this.log.error('message failed', { messageId: record.messageId, receives: receivesOf(record), error: errorMessage(error) });
    return super.failureHandler(record, error);
  }
}

/**
 * Runs `handle` for each record of the batch, one after the other in order, each body a JSON
 * document checked against `schema` (Powertools Batch with its parser), and reports the ones that
 * failed, so SQS retries only those (ReportBatchItemFailures). A body that does not parse fails at
 * once and goes to the dead-letter queue after its retries like any other poison message. A batch
 * whose every message failed is reported the same way rather than thrown: SQS retries each of
 * them either way, and the invocation does not count as a function error.
 */
export async function processRecords<T>(
  event: SQSEvent,
  schema: z.ZodType<T>,
  maxReceives: number,
  log: Logger,
  handle: (message: T, context: RecordContext) => Promise<void>,
): Promise<SQSBatchResponse> {
  const processor = new LoggedBatchProcessor(log, schema);
  return processPartialResponse(
    event,
    async (record: SQSRecord & { body: unknown }) => handle(record.body as T, { lastAttempt: receivesOf(record) >= maxReceives }),
    processor,
    { processInParallel: false, throwOnFullBatchFailure: false },
  );
}
