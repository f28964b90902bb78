import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { ServiceAccountKey } from '../shared/storage/gcs-options';

export interface LocalServiceAccount {
  email: string;
  /** The key file JSON, as `gcloud iam service-accounts keys create` writes it. */
  key: ServiceAccountKey;
  publicKey: KeyObject;
}

/** A throwaway service account with a freshly generated RSA key (never leaves the machine). */
export function generateServiceAccount(name = 'bucket-bridge-local', projectId = 'local-project'): LocalServiceAccount {
  const email = `${name}@${projectId}.iam.gserviceaccount.com`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key: ServiceAccountKey = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: email,
    client_id: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
    token_uri: 'https://oauth2.googleapis.com/token',
  };
  return { email, key, publicKey: createPublicKey(privateKey) };
}
