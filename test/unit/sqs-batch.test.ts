import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Logger } from '../../shared/log';
import { processRecords } from '../../shared/runtime/sqs-batch';

const record = (id: string, body: string, receives = 1): SQSEvent['Records'][number] => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body,
  attributes: { ApproximateReceiveCount: String(receives), SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
  awsRegion: 'us-east-1',
});

const Message = z.object({ n: z.number() });

function recordingLog() {
  const errors: Array<Record<string, unknown>> = [];
  const log: Logger = { debug() {}, info() {}, warn() {}, error: (message, fields) => errors.push({ message, ...fields }) };
  return { log, errors };
}

describe('SQS batches (Powertools Batch with its parser)', () => {
  it('handles records one after the other in order and reports only the failed ones: bad JSON, schema miss, handler error', async () => {
    const { log, errors } = recordingLog();
    const seen: number[] = [];
    let running = 0;
    const event: SQSEvent = { Records: [record('1', '{"n":1}'), record('2', 'not json'), record('3', '{"n":"three"}'), record('4', '{"n":4}'), record('5', '{"n":5}')] };
    const response = await processRecords(event, Message, 5, log, async ({ n }) => {
      expect(++running).toBe(1);
      await new Promise((r) => setTimeout(r, 5 - n));
      seen.push(n);
      running--;
      if (n === 4) throw new Error('four failed');
    });
    expect(seen).toEqual([1, 4, 5]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }, { itemIdentifier: '3' }, { itemIdentifier: '4' }] });
    expect(errors.map((e) => [e.message, e.messageId, e.receives])).toEqual([
      ['message failed', '2', 1],
      ['message failed', '3', 1],
      ['message failed', '4', 1],
    ]);
    expect(errors[2]!.error).toBe('four failed');
  });

  it('reports a batch whose every record failed instead of throwing, and says which delivery is the last', async () => {
    const { log } = recordingLog();
    const lastAttempts: boolean[] = [];
    const event: SQSEvent = { Records: [record('a', '{"n":1}', 4), record('b', '{"n":2}', 5)] };
    const response = await processRecords(event, Message, 5, log, async (_m, { lastAttempt }) => {
      lastAttempts.push(lastAttempt);
      throw new Error('down');
    });
    expect(lastAttempts).toEqual([false, true]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }] });
  });
});
