import type { PartitionMessage } from '../../runtime/messages';
import type { RecordContext } from '../../runtime/sqs-batch';
import type { ServerlessPorts } from '../serverless-ports';
import { givingUpRecorded } from '../workers';
import { submitPartition, type PartitionInvocation } from './partition-worker';
import { sweepPartitions } from './sweep';

/**
 * `partitions` queue: submit one partition, or sweep a run's partitions. A partition that fails on
 * its last delivery ends its run failed with the reason (before SQS moves the message to the
 * dead-letter queue), as every other poison message does.
 */
export async function handlePartitionMessage(ports: ServerlessPorts, message: PartitionMessage, context: RecordContext, invocation: PartitionInvocation) {
  if (message.kind === 'sweep') {
    await givingUpRecorded(ports, message.runId, 'sweeping the partitions', context, () => sweepPartitions(ports, message));
    return;
  }
  await givingUpRecorded(ports, message.runId, `submitting partition ${message.partition}`, context, () => submitPartition(ports, message, invocation));
}
