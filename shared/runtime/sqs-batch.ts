import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { errorMessage } from '../errors';
import type { Logger } from '../log';

export interface RecordContext {
  /** True on the delivery after which SQS moves the message to the dead-letter queue. */
  lastAttempt: boolean;
}

/**
 * Runs `handle` for each record (in order) and reports the ones that failed, so SQS retries only
 * those (ReportBatchItemFailures). A body that does not parse fails at once and goes to the
 * dead-letter queue after its retries like any other poison message.
 */
export async function processRecords<T>(
  records: SQSRecord[],
  schema: z.ZodType<T>,
  maxReceives: number,
  log: Logger,
  handle: (message: T, context: RecordContext) => Promise<void>,
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
    try {
      const parsed = schema.safeParse(JSON.parse(record.body));
      if (!parsed.success) throw new Error(`invalid message: ${parsed.error.issues[0]?.message ?? 'schema mismatch'}`);
      await handle(parsed.data, { lastAttempt: receives >= maxReceives });
    } catch (err) {
      log.error('message failed', { messageId: record.messageId, receives, error: errorMessage(err) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
