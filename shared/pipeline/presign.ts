import { InputError } from '../errors';
import type { ObjectStore } from '../storage/port';

/** SigV4 and GCS V4 signatures cannot outlive seven days. */
export const MAX_URL_LIFETIME_SECONDS = 7 * 24 * 60 * 60;

export function checkUrlLifetime(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > MAX_URL_LIFETIME_SECONDS) {
    throw new InputError('url-lifetime', `whole seconds between 60 and ${MAX_URL_LIFETIME_SECONDS} (7 days)`, String(seconds));
  }
  return seconds;
}

/**
 * A URL signed with temporary credentials dies with them, whatever its own lifetime says.
 * Returns a warning to show the user when that happens before the URLs would expire.
 */
export async function credentialExpiryWarning(
  store: ObjectStore,
  lifetimeSeconds: number,
  now = new Date(),
): Promise<string | undefined> {
  const expiry = await store.credentialsExpiry();
  if (!expiry) return undefined;
  const urlExpiry = new Date(now.getTime() + lifetimeSeconds * 1000);
  if (expiry >= urlExpiry) return undefined;
  return (
    `the signing credentials expire at ${expiry.toISOString()}, before the signed URLs would ` +
    `(${urlExpiry.toISOString()}); Roboflow cannot download objects after that. ` +
    `Use longer-lived credentials or a shorter --url-lifetime.`
  );
}

export function presignObject(store: ObjectStore, key: string, lifetimeSeconds: number): Promise<string> {
  return store.presignGet(key, { expiresInSeconds: lifetimeSeconds });
}
