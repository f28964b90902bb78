export { DynamoStateStore } from './state-store';
export { DynamoObjectLedger } from './ledger';
export { DynamoPendingObjects } from './pending-objects';
export type { DynamoStateOptions } from './operations';
export {
  STATE_TABLE_KEYS,
  createDocumentClient,
  stateTableDefinition,
  stateTableTimeToLive,
} from './table';
