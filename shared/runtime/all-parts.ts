import { sqsQueues } from './aws-queues';
import { secretsManager } from './aws-secrets';
import { bucketStores } from './bucket-stores';
import type { RuntimeParts } from './parts';

/** Every part, for tests and tools that drive all functions from one runtime. */
export const allParts: RuntimeParts = { queues: sqsQueues, secrets: secretsManager, stores: bucketStores };
