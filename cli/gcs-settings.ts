import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../shared/errors';
import { parseGcsCredentials, type GcsSettings } from '../shared/storage/gcs-options';
import { check, type CliGcsFlags } from './options';

/**
 * GCS settings from flags and the environment. Signing: `--gcs-sign-as EMAIL` (keyless, IAM
 * signBlob) or a key file (`--gcs-key-file`, `BUCKET_BRIDGE_GCS_KEY_FILE`, then
 * `GOOGLE_APPLICATION_CREDENTIALS` when it holds a service-account key). Errors name the flag or
 * variable and never echo a file's content.
 */
export function cliGcsSettings(env: NodeJS.ProcessEnv, flags: CliGcsFlags = {}): GcsSettings {
  const url = (name: string) => {
    const value = env[name]?.trim();
    if (!value) return undefined;
    if (!z.url({ protocol: /^https?$/ }).safeParse(value).success) throw new InputError(name, 'an http(s) URL', value);
    return value.replace(/\/+$/, '');
  };
  const apiEndpoint = url('BUCKET_BRIDGE_GCS_ENDPOINT');
  const iamCredentialsUrl = url('BUCKET_BRIDGE_GCS_IAM_URL');
  const accessToken = env.BUCKET_BRIDGE_GCS_ACCESS_TOKEN?.trim() || undefined;
  const concurrencyText = env.BUCKET_BRIDGE_GCS_SIGN_CONCURRENCY?.trim();
  const concurrency = concurrencyText
    ? check('BUCKET_BRIDGE_GCS_SIGN_CONCURRENCY', z.coerce.number().int().min(1).max(256), concurrencyText, 'a whole number from 1 to 256')
    : undefined;
  const common = {
    apiEndpoint,
    projectId: env.GOOGLE_CLOUD_PROJECT?.trim() || env.GCLOUD_PROJECT?.trim() || undefined,
    userProject: flags.userProject ?? (env.BUCKET_BRIDGE_GCS_USER_PROJECT?.trim() || undefined),
  };
  const signAs = flags.signAs ?? (env.BUCKET_BRIDGE_GCS_SIGN_AS?.trim() || undefined);
  const keyFile: [string, string] | undefined = flags.keyFile
    ? ['--gcs-key-file', flags.keyFile]
    : env.BUCKET_BRIDGE_GCS_KEY_FILE?.trim()
      ? ['BUCKET_BRIDGE_GCS_KEY_FILE', env.BUCKET_BRIDGE_GCS_KEY_FILE.trim()]
      : undefined;

  if (signAs) {
    if (keyFile) throw new InputError(flags.signAs ? '--gcs-sign-as' : 'BUCKET_BRIDGE_GCS_SIGN_AS', `either a key file or --gcs-sign-as, not both (${keyFile[0]} is set)`);
    const email = check(flags.signAs ? '--gcs-sign-as' : 'BUCKET_BRIDGE_GCS_SIGN_AS', z.email(), signAs, 'a service account e-mail address');
    // The JSON API and the signBlob calls use Application Default Credentials (or the fixed token).
    return { ...common, signing: { kind: 'sign-blob', serviceAccount: email, iamCredentialsUrl, concurrency, accessToken } };
  }

  const file: [string, string] | undefined =
    keyFile ?? (env.GOOGLE_APPLICATION_CREDENTIALS?.trim() ? ['GOOGLE_APPLICATION_CREDENTIALS', env.GOOGLE_APPLICATION_CREDENTIALS.trim()] : undefined);
  if (!file) {
    throw new InputError(
      '--gcs-key-file',
      'GCS credentials for gs:// locations: a service-account key file (--gcs-key-file, BUCKET_BRIDGE_GCS_KEY_FILE or GOOGLE_APPLICATION_CREDENTIALS), or --gcs-sign-as EMAIL for keyless signing',
    );
  }
  const [field, path] = file;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(field, `a readable key file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, path);
  }
  let parsed: ReturnType<typeof parseGcsCredentials>;
  try {
    parsed = parseGcsCredentials(text, path);
  } catch {
    throw new InputError(
      field,
      'a service-account key file (type service_account) or a bucket-bridge signBlob configuration; other credential types cannot sign URLs: use --gcs-sign-as EMAIL',
      path,
    );
  }
  const signing =
    parsed.signing.kind === 'sign-blob'
      ? { ...parsed.signing, iamCredentialsUrl: iamCredentialsUrl ?? parsed.signing.iamCredentialsUrl, concurrency: concurrency ?? parsed.signing.concurrency, accessToken }
      : parsed.signing;
  return {
    ...common,
    projectId: common.projectId ?? parsed.projectId,
    userProject: common.userProject ?? parsed.userProject,
    credentials: parsed.credentials,
    signing,
  };
}
