import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOptions } from '../../cli/options';
import { cliGcsSettings } from '../../cli/gcs-settings';
import { generateServiceAccount } from '../../sandbox/gcs-keys';
import { parseBridgeConfig, type BridgeConfigInput } from '../../shared/config/bridge-config';
import { InputError } from '../../shared/errors';
import { parseBucketUrl } from '../../shared/location';
import { specForSource } from '../../shared/run/source-spec';
import { parseGcsCredentials } from '../../shared/storage/gcs-options';

const account = generateServiceAccount('config-unit');
const dir = mkdtempSync(join(tmpdir(), 'bb-gcs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:bucket-bridge/gcs-AbCdEf';

const base = (): BridgeConfigInput => ({
  sources: [{ id: 'cams', bucket: 'media', prefix: 'in/', schedule: 'rate(1 hour)' }],
  destination: { bucket: 'results', prefix: 'out/' },
  workspace: 'ws',
  workflowId: 'wf',
});

describe('BridgeConfig storage fields', () => {
  it('stays backward compatible: existing configs parse, sources default to S3', () => {
    const config = parseBridgeConfig(base());
    expect(config.sources[0]).toMatchObject({ store: 's3', bucket: 'media', onObjectCreated: false });
    expect(config.gcsCredentialsSecretArn).toBeUndefined();
    expect(specForSource(config, config.sources[0]!).source).toEqual({ scheme: 's3', bucket: 'media', prefix: 'in/' });
  });

  it('accepts GCS sources with the credentials secret, S3 regions and requester pays', () => {
    const input = base();
    input.sources.push({ id: 'gcs-cams', store: 'gcs', bucket: 'my_gcs_bucket', prefix: 'frames/', schedule: 'rate(1 day)' });
    input.sources[0]!.region = 'eu-west-1';
    input.sources[0]!.requesterPays = true;
    input.destination.region = 'us-west-2';
    input.gcsCredentialsSecretArn = SECRET_ARN;
    input.gcsUserProject = 'billing-project';
    const config = parseBridgeConfig(input);
    expect(config.sources[1]).toMatchObject({ store: 'gcs', bucket: 'my_gcs_bucket' });
    expect(specForSource(config, config.sources[1]!).source).toEqual({ scheme: 'gs', bucket: 'my_gcs_bucket', prefix: 'frames/' });
    expect(config.sources[0]).toMatchObject({ region: 'eu-west-1', requesterPays: true });
    expect(config.destination.region).toBe('us-west-2');
  });

  it.each([
    ['a GCS source without the credentials secret', (c: BridgeConfigInput) => void c.sources.push({ id: 'g', store: 'gcs', bucket: 'gb1' }), /gcsCredentialsSecretArn: a secret ARN \(source "g" reads GCS\)/],
    ['object-created runs on GCS', (c: BridgeConfigInput) => {
      c.gcsCredentialsSecretArn = SECRET_ARN;
      c.sources.push({ id: 'g', store: 'gcs', bucket: 'gb1', onObjectCreated: true });
    }, /sources\.1\.onObjectCreated: false for GCS sources/],
    ['a KMS key on a GCS source', (c: BridgeConfigInput) => {
      c.gcsCredentialsSecretArn = SECRET_ARN;
      c.sources.push({ id: 'g', store: 'gcs', bucket: 'gb1', kmsKeyArn: 'arn:aws:kms:us-east-1:1:key/x' });
    }, /sources\.1\.kmsKeyArn/],
    ['an S3 region on a GCS source', (c: BridgeConfigInput) => {
      c.gcsCredentialsSecretArn = SECRET_ARN;
      c.sources.push({ id: 'g', store: 'gcs', bucket: 'gb1', region: 'eu-west-1' });
    }, /sources\.1\.region/],
    ['an underscore in an S3 bucket name', (c: BridgeConfigInput) => void (c.sources[0]!.bucket = 'my_bucket'), /sources\.0\.bucket: an S3 bucket name/],
    ['an unknown store', (c: BridgeConfigInput) => void (c.sources[0]!.store = 'azure' as never), /sources\.0\.store/],
    ['a bad secret ARN', (c: BridgeConfigInput) => void (c.gcsCredentialsSecretArn = 'my-secret'), /gcsCredentialsSecretArn: a Secrets Manager secret ARN/],
    ['a bad region', (c: BridgeConfigInput) => void (c.destination.region = 'EU West'), /destination\.region/],
  ])('rejects %s, naming the field', (_, change, message) => {
    const input = base();
    change(input);
    expect(() => parseBridgeConfig(input)).toThrow(message);
  });
});

describe('gs:// bucket URLs', () => {
  it('accept GCS names (underscores) for gs:// only', () => {
    expect(parseBucketUrl('--source', 'gs://my_bucket/x')).toEqual({ scheme: 'gs', bucket: 'my_bucket', prefix: 'x/' });
    expect(parseBucketUrl('--source', 'gs://a.b.example.com/x').bucket).toBe('a.b.example.com');
    expect(() => parseBucketUrl('--source', 's3://my_bucket/x')).toThrow(/valid bucket name/);
    expect(() => parseBucketUrl('--source', `gs://${'a'.repeat(64)}/x`)).toThrow(/valid bucket name/);
  });
});

describe('run storage flags', () => {
  const args = (...more: string[]) => ['--source', 'gs://media/in', '--dest', 's3://results/out', '--workspace', 'ws', '--workflow', 'wf', ...more];

  it('parses regions, requester pays and GCS credentials flags', () => {
    const o = runOptions(['--source', 's3://media/in', '--dest', 's3://results/out', '--workspace', 'ws', '--workflow', 'wf',
      '--source-region', 'eu-west-1', '--dest-region', 'auto', '--source-requester-pays', '--gcs-key-file', '/k.json', '--gcs-user-project', 'bill']);
    expect(o.storage).toEqual({
      source: { region: 'eu-west-1', requesterPays: true },
      dest: { region: 'auto', requesterPays: undefined },
      gcs: { keyFile: '/k.json', signAs: undefined, userProject: 'bill' },
    });
    expect(runOptions(args('--gcs-sign-as', account.email)).storage.gcs.signAs).toBe(account.email);
  });

  it.each([
    [['--source-region', 'eu-west-1'], /--source-region: expected an s3:\/\/ --source/],
    [['--source-requester-pays'], /--source-requester-pays: expected an s3:\/\/ --source/],
    [['--dest-region', 'Not A Region'], /--dest-region: expected an S3 region/],
    [['--gcs-sign-as', 'not-an-email'], /--gcs-sign-as: expected a service account e-mail address/],
    [['--gcs-key-file', ' '], /--gcs-key-file: expected a value/],
  ])('rejects %j naming the flag', (more, message) => {
    expect(() => runOptions(args(...more))).toThrow(InputError);
    expect(() => runOptions(args(...more))).toThrow(message);
  });
});

describe('CLI GCS settings', () => {
  it('reads a service-account key file (flag, variable, then GOOGLE_APPLICATION_CREDENTIALS)', () => {
    const key = file('key.json', account.key);
    for (const [env, flags] of [
      [{}, { keyFile: key }],
      [{ BUCKET_BRIDGE_GCS_KEY_FILE: key }, {}],
      [{ GOOGLE_APPLICATION_CREDENTIALS: key }, {}],
    ] as const) {
      const s = cliGcsSettings({ ...env, BUCKET_BRIDGE_GCS_ENDPOINT: 'http://127.0.0.1:9/' }, flags);
      expect(s.signing).toEqual({ kind: 'key', key: expect.objectContaining({ client_email: account.email }) });
      expect(s.apiEndpoint).toBe('http://127.0.0.1:9');
      expect(s.projectId).toBe('local-project');
    }
  });

  it('signs keylessly with --gcs-sign-as (signBlob, token and IAM URL from the environment)', () => {
    const s = cliGcsSettings(
      { BUCKET_BRIDGE_GCS_ACCESS_TOKEN: 'ya29.t', BUCKET_BRIDGE_GCS_IAM_URL: 'http://127.0.0.1:8', BUCKET_BRIDGE_GCS_SIGN_CONCURRENCY: '5', GOOGLE_CLOUD_PROJECT: 'proj' },
      { signAs: account.email, userProject: 'bill' },
    );
    expect(s).toMatchObject({
      signing: { kind: 'sign-blob', serviceAccount: account.email, accessToken: 'ya29.t', iamCredentialsUrl: 'http://127.0.0.1:8', concurrency: 5 },
      projectId: 'proj',
      userProject: 'bill',
    });
  });

  it('accepts a signBlob configuration file (workload identity credentials inside)', () => {
    const config = file('signblob.json', { signBlob: { serviceAccount: account.email, concurrency: 8 }, credentials: { type: 'external_account', audience: 'x' }, userProject: 'bill' });
    const s = cliGcsSettings({}, { keyFile: config });
    expect(s).toMatchObject({ signing: { kind: 'sign-blob', serviceAccount: account.email, concurrency: 8 }, credentials: { type: 'external_account' }, userProject: 'bill' });
  });

  it.each([
    ['no credentials at all', {}, {}, /--gcs-key-file: expected GCS credentials for gs:\/\/ locations/],
    ['a missing key file', {}, { keyFile: '/nonexistent/key.json' }, /--gcs-key-file: expected a readable key file \(ENOENT\)/],
    ['credentials that cannot sign', { GOOGLE_APPLICATION_CREDENTIALS: 'USER' }, {}, /GOOGLE_APPLICATION_CREDENTIALS: expected a service-account key file .* use --gcs-sign-as EMAIL/],
    ['a file that is not JSON', {}, { keyFile: 'GARBAGE' }, /--gcs-key-file: expected a service-account key file/],
    ['a key file and --gcs-sign-as together', {}, { keyFile: 'KEY', signAs: 'a@b.iam.gserviceaccount.com' }, /--gcs-sign-as: expected either a key file or --gcs-sign-as/],
    ['a bad endpoint', { BUCKET_BRIDGE_GCS_ENDPOINT: 'ftp://x', BUCKET_BRIDGE_GCS_KEY_FILE: 'KEY' }, {}, /BUCKET_BRIDGE_GCS_ENDPOINT: expected an http\(s\) URL/],
    ['a bad sign concurrency', { BUCKET_BRIDGE_GCS_SIGN_CONCURRENCY: '0' }, { signAs: 'a@b.iam.gserviceaccount.com' }, /BUCKET_BRIDGE_GCS_SIGN_CONCURRENCY/],
  ])('rejects %s, naming the flag or variable, never echoing file content', (_, env: Record<string, string>, flags: Record<string, string>, message) => {
    const paths: Record<string, string> = {
      USER: file('user.json', { type: 'authorized_user', client_id: 'id', client_secret: 'SECRET-VALUE', refresh_token: 'REFRESH-VALUE' }),
      GARBAGE: file('garbage.txt', 'not json SECRET-VALUE'),
      KEY: file('key2.json', account.key),
    };
    const resolve = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, paths[v] ?? v]));
    let error: unknown;
    try {
      cliGcsSettings(resolve(env), resolve(flags));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/SECRET-VALUE|REFRESH-VALUE|PRIVATE KEY/);
  });

  it('parses a deployment secret either way, and explains what other credential types lack', () => {
    expect(parseGcsCredentials(JSON.stringify(account.key), 'secret').signing.kind).toBe('key');
    expect(parseGcsCredentials(JSON.stringify({ signBlob: { serviceAccount: account.email } }), 'secret').signing).toEqual({
      kind: 'sign-blob',
      serviceAccount: account.email,
      iamCredentialsUrl: undefined,
      concurrency: undefined,
    });
    expect(() => parseGcsCredentials(JSON.stringify({ type: 'external_account' }), 'secret')).toThrow(/"external_account" credentials cannot sign URLs/);
    expect(() => parseGcsCredentials('{', 'secret')).toThrow(/secret: not JSON/);
  });
});
