import { Storage } from '@google-cloud/storage';
import type { GcsSettings } from './gcs-options';
import { SignBlobSigner } from './gcs-signblob-signer';
import { privateKeySigner, type BlobSigner } from './gcs-v4-signer';

/** The client for list/read/write calls. With a custom endpoint the library sends no credentials (fakes, emulators). */
export function createGcsClient(settings: GcsSettings): Storage {
  const credentials =
    settings.signing.kind === 'key'
      ? { client_email: settings.signing.key.client_email, private_key: settings.signing.key.private_key }
      : settings.credentials;
  return new Storage({
    apiEndpoint: settings.apiEndpoint,
    projectId: settings.projectId,
    ...(credentials ? { credentials } : {}),
    ...(settings.retryOptions ? { retryOptions: settings.retryOptions } : {}),
  });
}

/** The signer of the settings: the key locally, or signBlob with the client's (or a fixed) access token. */
export function createGcsSigner(settings: GcsSettings, client: Storage): BlobSigner {
  const signing = settings.signing;
  if (signing.kind === 'key') return privateKeySigner(signing.key.client_email, signing.key.private_key);
  const fixed = signing.accessToken;
  return new SignBlobSigner({
    serviceAccount: signing.serviceAccount,
    baseUrl: signing.iamCredentialsUrl,
    concurrency: signing.concurrency,
    retry: signing.retry,
    onRetry: settings.onSignRetry,
    accessToken: fixed
      ? async () => fixed
      : async () => {
          const token = await client.authClient.getAccessToken();
          if (!token) throw new Error(`no access token to call signBlob as ${signing.serviceAccount}: set up Application Default Credentials`);
          return token;
        },
  });
}
