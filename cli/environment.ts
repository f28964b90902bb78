import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../shared/errors';
import { registerSecrets } from '../shared/scrub-secrets';
import type { TargetSpec } from '../shared/state/run-record';
import { DEFAULT_EXTEND_API_URL } from '../shared/targets/extend/client';
import { DEFAULT_LLAMACLOUD_API_URL } from '../shared/targets/llamacloud/client';
import { DEFAULT_ROBOFLOW_API_URL } from '../shared/targets/roboflow/client';

export const DEFAULT_STATE_DIR = '.bucket-bridge';

const optionalText = z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined), z.string().optional());

const Env = z.object({
  ROBOFLOW_API_KEY: optionalText,
  ROBOFLOW_API_URL: z.string().url().default(DEFAULT_ROBOFLOW_API_URL),
  EXTEND_API_KEY: optionalText,
  EXTEND_API_URL: z.string().url().default(DEFAULT_EXTEND_API_URL),
  EXTEND_WORKSPACE_ID: optionalText,
  EXTEND_WEBHOOK_SIGNING_SECRET: optionalText,
  LLAMA_CLOUD_API_KEY: optionalText,
  LLAMA_CLOUD_BASE_URL: z.string().url().default(DEFAULT_LLAMACLOUD_API_URL),
  LLAMA_CLOUD_PROJECT_ID: optionalText,
  BUCKET_BRIDGE_WEBHOOK_SECRET: z.string().regex(/^[A-Za-z0-9_-]{32,}$/).optional(),
  BUCKET_BRIDGE_STATE_DIR: z.string().min(1).default(DEFAULT_STATE_DIR),
  /** As `--allow-http-references` (for every command, e.g. local setups). */
  BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES: z.stringbool().default(false),
  /** Caps per result file at export (see shared/pipeline/export-limits.ts for the defaults). */
  BUCKET_BRIDGE_ARCHIVE_MAX_BYTES: z.coerce.number().int().positive().optional(),
  BUCKET_BRIDGE_ARCHIVE_MAX_MEMBERS: z.coerce.number().int().positive().optional(),
  BUCKET_BRIDGE_ARCHIVE_MAX_RATIO: z.coerce.number().min(1).optional(),
  BUCKET_BRIDGE_COPY_TIMEOUT_SECONDS: z.coerce.number().int().positive().optional(),
});
export type CliEnvironment = z.infer<typeof Env>;

const EXPECTED: Record<string, string> = {
  ROBOFLOW_API_KEY: 'your Roboflow private API key (environment variable is not set)',
  EXTEND_API_KEY: 'your Extend API key (environment variable is not set)',
  LLAMA_CLOUD_API_KEY: 'your LlamaCloud API key (environment variable is not set)',
  EXTEND_WEBHOOK_SIGNING_SECRET: 'the signing secret of the Extend webhook endpoint (wss_…) when waiting on webhooks',
  BUCKET_BRIDGE_WEBHOOK_SECRET: 'at least 32 characters of [A-Za-z0-9_-]',
  BUCKET_BRIDGE_STATE_DIR: 'a folder path',
  BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES: 'true or false',
  BUCKET_BRIDGE_ARCHIVE_MAX_BYTES: 'a whole number of bytes (default 10737418240, 10 GiB)',
  BUCKET_BRIDGE_ARCHIVE_MAX_MEMBERS: 'a whole number of archive members (default 100000)',
  BUCKET_BRIDGE_ARCHIVE_MAX_RATIO: 'a number ≥ 1: unpacked bytes per compressed byte (default 100)',
  BUCKET_BRIDGE_COPY_TIMEOUT_SECONDS: 'a whole number of seconds (default 1800)',
};

const API_KEY: Record<TargetSpec['name'], keyof CliEnvironment> = {
  roboflow: 'ROBOFLOW_API_KEY',
  extend: 'EXTEND_API_KEY',
  llamacloud: 'LLAMA_CLOUD_API_KEY',
};

/** Credentials in the environment that no remote message may repeat (the CLI's own, and the standard cloud ones). */
const SECRET_VARIABLES = [
  'ROBOFLOW_API_KEY',
  'EXTEND_API_KEY',
  'EXTEND_WEBHOOK_SIGNING_SECRET',
  'LLAMA_CLOUD_API_KEY',
  'BUCKET_BRIDGE_WEBHOOK_SECRET',
  'BUCKET_BRIDGE_GCS_ACCESS_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

/**
 * Reads the environment the CLI depends on, including the API key of the run's target; errors
 * name the variable and never echo secrets. Every credential in it is registered for scrubbing.
 */
export function cliEnvironment(env: NodeJS.ProcessEnv, target: TargetSpec['name'] = 'roboflow'): CliEnvironment {
  registerSecrets(...SECRET_VARIABLES.map((name) => env[name]));
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const name = String(parsed.error.issues[0]!.path[0]);
    throw new InputError(name, EXPECTED[name] ?? 'an http(s) URL or a valid value');
  }
  const key = API_KEY[target];
  if (!parsed.data[key]) throw new InputError(key, EXPECTED[key]!);
  return parsed.data;
}

/** The webhook path token: configured, or a fresh unguessable one per CLI run (registered for scrubbing). */
export function webhookSecret(env: CliEnvironment): string {
  const secret = env.BUCKET_BRIDGE_WEBHOOK_SECRET ?? randomBytes(32).toString('base64url');
  registerSecrets(secret);
  return secret;
}
