import { describe, expect, it } from 'vitest';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import type { BridgeFunctionName } from '../../infra/bucket-bridge';
import { asArray, exampleConfig, flatten, functionStatements, logicalId, synthStack } from './fixtures';

/** A source read from its S3 Inventory: the functions that read the reports may list and read them, nothing more. */
describe('S3 Inventory source: read grant on the inventory bucket', () => {
  const base = exampleConfig();
  const source = { ...base.sources[0]!, inventory: { bucket: 'inventory-reports', prefix: 'inv/media-bucket/daily/' } };
  const { stack, template } = synthStack({ config: { ...base, sources: [source] } });
  const onInventory = (fn: BridgeFunctionName, t = template, s = stack) =>
    functionStatements(t, s, fn)
      .filter((st) => asArray(st.Resource).some((r) => flatten(r).includes('inventory-reports')))
      .map((st) => ({ actions: asArray(st.Action).sort(), resources: asArray(st.Resource).map(flatten) }));

  // scheduled-run finds the newest report and reads its manifest; submit-partition reads the data files.
  it.each(['scheduled-run', 'submit-partition'] as const)('%s may list the reports prefix and read under it', (fn) => {
    expect(onInventory(fn)).toEqual(
      expect.arrayContaining([
        { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::inventory-reports'] },
        { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::inventory-reports/inv/media-bucket/daily/*'] },
      ]),
    );
    expect(onInventory(fn).flatMap((s) => s.actions).every((a) => a === 's3:ListBucket' || a === 's3:GetObject')).toBe(true);
  });

  it.each(['continue-submission', 'export', 'webhook', 'start-job', 'object-created'] as const)('%s (reads no report) gets nothing on the inventory bucket', (fn) => {
    expect(onInventory(fn)).toEqual([]);
  });

  const kmsStatements = (t: typeof template, s: typeof stack, fn: BridgeFunctionName) =>
    functionStatements(t, s, fn)
      .filter((st) => asArray(st.Action).some((a) => a.startsWith('kms:')))
      .map((st) => ({ actions: asArray(st.Action).sort(), resources: asArray(st.Resource).map(flatten) }));

  it('reports encrypted with SSE-KMS: kms:Decrypt on exactly that key for the functions that read them, for no other', () => {
    const reportKey = 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';
    const encrypted = synthStack({ config: { ...base, sources: [{ ...source, kmsKeyArn: undefined, inventory: { ...source.inventory, kmsKeyArn: reportKey } }] } });
    for (const fn of ['scheduled-run', 'submit-partition'] as const) {
      expect(kmsStatements(encrypted.template, encrypted.stack, fn)).toEqual([{ actions: ['kms:Decrypt'], resources: [reportKey] }]);
    }
    for (const fn of ['continue-submission', 'export', 'webhook', 'start-job', 'object-created'] as const) {
      expect(kmsStatements(encrypted.template, encrypted.stack, fn).filter((st) => st.resources.includes(reportKey))).toEqual([]);
    }
  });

  it('reports without a key: no KMS statement for their readers', () => {
    const plain = synthStack({ config: { ...base, sources: [{ ...source, kmsKeyArn: undefined }] } });
    for (const fn of ['scheduled-run', 'submit-partition'] as const) expect(kmsStatements(plain.template, plain.stack, fn)).toEqual([]);
  });

  it('the configuration names the field at fault', () => {
    const withInventory = (inventory: unknown) => () => parseBridgeConfig({ ...base, sources: [{ ...source, inventory }] });
    expect(withInventory({ bucket: 'inventory-reports', prefix: 'no-slash' })).toThrow(/sources\.0\.inventory\.prefix: the key prefix up to the inventory configuration id/);
    expect(withInventory({ bucket: 'Bad_Bucket', prefix: 'a/' })).toThrow(/sources\.0\.inventory\.bucket: an S3 bucket name/);
    expect(withInventory({ bucket: 'inventory-reports', prefix: 'a/', maxAgeDays: 0 })).toThrow(/sources\.0\.inventory\.maxAgeDays/);
    expect(withInventory({ bucket: 'inventory-reports', prefix: 'a/', kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:alias/reports' })).toThrow(
      /sources\.0\.inventory\.kmsKeyArn: a KMS key ARN \(arn:aws:kms:<region>:<account>:key\/<key id>; not an alias\)/,
    );
    expect(withInventory({ bucket: 'inventory-reports', prefix: 'a/', kmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' })).toThrow(/sources\.0\.inventory\.kmsKeyArn: a KMS key ARN/);
    expect(() => parseBridgeConfig({ ...base, gcsCredentialsSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:gcs', sources: [{ ...source, store: 'gcs', onObjectCreated: false, kmsKeyArn: undefined, region: undefined, requesterPays: undefined }] })).toThrow(
      /sources\.0\.inventory: absent for GCS sources/,
    );
    expect(parseBridgeConfig({ ...base, sources: [source] }).sources[0]!.inventory).toEqual({ bucket: 'inventory-reports', prefix: 'inv/media-bucket/daily/', maxAgeDays: 7 });
  });
});

/** The partition function copies each data file whole to /tmp before reading it: its ephemeral storage is raised with an inventory source. */
describe('S3 Inventory source: the partition function\'s temporary space', () => {
  const base = exampleConfig();
  const source = { ...base.sources[0]!, inventory: { bucket: 'inventory-reports', prefix: 'inv/media-bucket/daily/' } };
  const storageOf = (config: typeof base) => {
    const { stack, template } = synthStack({ config });
    const functions = template.findResources('AWS::Lambda::Function');
    const of = (fn: BridgeFunctionName) => functions[logicalId(stack, stack.bridge.functions[fn])]!.Properties.EphemeralStorage as { Size: number } | undefined;
    return { of };
  };

  it('2,048 MiB for submit-partition by default, discovery.inventoryStorageMiB when set; the other functions keep Lambda\'s 512 MiB', () => {
    const raised = storageOf({ ...base, sources: [source, base.sources[1]!] });
    expect(raised.of('submit-partition')).toEqual({ Size: 2048 });
    for (const fn of ['scheduled-run', 'continue-submission', 'export'] as const) expect(raised.of(fn)).toBeUndefined();
    expect(storageOf({ ...base, sources: [source], discovery: { inventoryStorageMiB: 10_240 } }).of('submit-partition')).toEqual({ Size: 10_240 });
  });

  it('no inventory source: Lambda\'s default', () => {
    expect(storageOf(base).of('submit-partition')).toBeUndefined();
  });

  it('the setting is held to Lambda\'s range, naming the field', () => {
    for (const inventoryStorageMiB of [511, 10_241, 1.5]) {
      expect(() => parseBridgeConfig({ ...base, discovery: { inventoryStorageMiB } })).toThrow(/discovery\.inventoryStorageMiB/);
    }
  });
});
