import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors';
import { checkUrlLifetime, credentialExpiryWarning } from '../../shared/pipeline/presign';
import type { ObjectStore } from '../../shared/storage/port';

const storeExpiringAt = (expiry: Date | undefined) => ({ credentialsExpiry: async () => expiry }) as unknown as ObjectStore;

describe('signed URL lifetime', () => {
  it('accepts 60 s to 7 days and refuses anything else, naming the flag', () => {
    expect(checkUrlLifetime(86_400)).toBe(86_400);
    expect(checkUrlLifetime(604_800)).toBe(604_800);
    for (const bad of [604_801, 59, 1.5, -1]) expect(() => checkUrlLifetime(bad)).toThrow(InputError);
    expect(() => checkUrlLifetime(604_801)).toThrow(/url-lifetime: expected whole seconds between 60 and 604800 \(7 days\)/);
  });

  it('warns when temporary credentials expire before the URLs would', async () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const warning = await credentialExpiryWarning(storeExpiringAt(new Date('2026-11-23T18:00:00Z')), 86_400, now);
    expect(warning).toMatch(/expire at 2026-11-23T18:00:00.000Z, before the signed URLs would \(2026-11-24T12:00:00.000Z\)/);
  });

  it('stays quiet for long-lived credentials or credentials that outlive the URLs', async () => {
    const now = new Date('2026-11-23T12:00:00Z');
    expect(await credentialExpiryWarning(storeExpiringAt(undefined), 86_400, now)).toBeUndefined();
    expect(await credentialExpiryWarning(storeExpiringAt(new Date('2026-11-25T00:00:00Z')), 86_400, now)).toBeUndefined();
  });
});
