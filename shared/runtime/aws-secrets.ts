import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RuntimeParts } from './parts';
import { traced } from './tracing';
import { cachedSecret } from './secrets';

/** The Secrets Manager part of a function's runtime. */
export const secretsManager: NonNullable<RuntimeParts['secrets']> = (aws, endpoint) => {
  const client = traced(new SecretsManagerClient({ ...aws, endpoint }));
  return (secretId) => cachedSecret(client, secretId);
};
