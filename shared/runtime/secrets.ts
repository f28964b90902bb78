import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Reads a secret once per cold start and keeps the promise, so concurrent callers share one
 * request. A failed read is not cached: the next invocation tries again.
 */
export function cachedSecret(client: SecretsManagerClient, secretId: string): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= client.send(new GetSecretValueCommand({ SecretId: secretId })).then(
      (res) => {
        const value = res.SecretString?.trim();
        if (!value) throw new Error(`secret ${secretId} has no string value`);
        return value;
      },
      (err) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}
