import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sleep } from '../http/retry-policy';

/** Sends JSON messages to one queue. */
export interface QueueSender {
  send(bodies: unknown[], options?: { delaySeconds?: number }): Promise<void>;
}

const BATCH = 10;
const ATTEMPTS = 5;

/** SQS adapter: batches of ten, entries the service refused are sent again (bounded). */
export class SqsQueue implements QueueSender {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(bodies: unknown[], options: { delaySeconds?: number } = {}): Promise<void> {
    for (let i = 0; i < bodies.length; i += BATCH) {
      let entries = bodies.slice(i, i + BATCH).map((body, n) => ({
        Id: String(n),
        MessageBody: JSON.stringify(body),
        DelaySeconds: options.delaySeconds,
      }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        const res = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
        const failed = new Set((res.Failed ?? []).map((f) => f.Id));
        if (failed.size === 0) break;
        if (attempt >= ATTEMPTS) {
          const first = res.Failed![0]!;
          throw new Error(`SQS refused ${failed.size} message(s) after ${attempt} attempts: ${first.Code} ${first.Message ?? ''}`);
        }
        entries = entries.filter((e) => failed.has(e.Id));
        await sleep(50 * 2 ** attempt);
      }
    }
  }
}
