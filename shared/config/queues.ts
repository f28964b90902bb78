/**
 * Deliveries per message before SQS moves it to the queue's dead-letter queue. The CDK construct
 * sets these on the queues, and handlers read them to know when a delivery is the last one.
 */
export const MAX_RECEIVES = {
  submissions: 3,
  objectEvents: 5,
  startJob: 3,
  export: 5,
  partitions: 3,
} as const;
