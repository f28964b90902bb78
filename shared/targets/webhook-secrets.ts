import { createHmac } from 'node:crypto';

/**
 * The secret LlamaCloud signs a batch's webhooks with (`LC-Signature`). We choose it at batch
 * creation, so it is derived from the webhook path token: every process that knows the token
 * (CLI restarts, each Lambda container) verifies the same way, and the token itself is never sent.
 */
export function llamaSigningSecret(pathSecret: string): string {
  return createHmac('sha256', pathSecret).update('bucket-bridge/llamacloud-signing').digest('hex');
}
