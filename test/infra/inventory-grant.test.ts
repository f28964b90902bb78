import { describe, expect, it } from 'vitest';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import { asArray, exampleConfig, flatten, functionStatements, synthStack } from './fixtures';

/** A source read from its S3 Inventory: the functions that read sources may list and read the reports, nothing more. */
describe('S3 Inventory source: read grant on the inventory bucket', () => {
  const base = exampleConfig();
  const source = { ...base.sources[0]!, inventory: { bucket: 'inventory-reports', prefix: 'inv/media-bucket/daily/' } };
  const { stack, template } = synthStack({ config: { ...base, sources: [source] } });
  const onInventory = (fn: 'scheduled-run' | 'continue-submission' | 'export') =>
    functionStatements(template, stack, fn)
      .filter((s) => asArray(s.Resource).some((r) => flatten(r).includes('inventory-reports')))
      .map((s) => ({ actions: asArray(s.Action).sort(), resources: asArray(s.Resource).map(flatten) }));

  it.each(['scheduled-run', 'continue-submission'] as const)('%s may list the reports prefix and read under it', (fn) => {
    expect(onInventory(fn)).toEqual(
      expect.arrayContaining([
        { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::inventory-reports'] },
        { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::inventory-reports/inv/media-bucket/daily/*'] },
      ]),
    );
    expect(onInventory(fn).flatMap((s) => s.actions).every((a) => a === 's3:ListBucket' || a === 's3:GetObject')).toBe(true);
  });

  it('the export function gets nothing on the inventory bucket', () => {
    expect(onInventory('export')).toEqual([]);
  });

  it('the configuration names the field at fault', () => {
    const withInventory = (inventory: unknown) => () => parseBridgeConfig({ ...base, sources: [{ ...source, inventory }] });
    expect(withInventory({ bucket: 'inventory-reports', prefix: 'no-slash' })).toThrow(/sources\.0\.inventory\.prefix: the key prefix up to the inventory configuration id/);
    expect(withInventory({ bucket: 'Bad_Bucket', prefix: 'a/' })).toThrow(/sources\.0\.inventory\.bucket: an S3 bucket name/);
    expect(withInventory({ bucket: 'inventory-reports', prefix: 'a/', maxAgeDays: 0 })).toThrow(/sources\.0\.inventory\.maxAgeDays/);
    expect(() => parseBridgeConfig({ ...base, gcsCredentialsSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:gcs', sources: [{ ...source, store: 'gcs', onObjectCreated: false, kmsKeyArn: undefined, region: undefined, requesterPays: undefined }] })).toThrow(
      /sources\.0\.inventory: absent for GCS sources/,
    );
    expect(parseBridgeConfig({ ...base, sources: [source] }).sources[0]!.inventory).toEqual({ bucket: 'inventory-reports', prefix: 'inv/media-bucket/daily/', maxAgeDays: 7 });
  });
});
