import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../shared/errors';
import { DEFAULT_ROBOFLOW_API_URL } from '../shared/targets/roboflow/client';

export const DEFAULT_STATE_DIR = '.bucket-bridge';

const Env = z.object({
  ROBOFLOW_API_KEY: z.string().min(1),
  ROBOFLOW_API_URL: z.string().url().default(DEFAULT_ROBOFLOW_API_URL),
  BUCKET_BRIDGE_WEBHOOK_SECRET: z.string().regex(/^[A-Za-z0-9_-]{32,}$/).optional(),
  BUCKET_BRIDGE_STATE_DIR: z.string().min(1).default(DEFAULT_STATE_DIR),
});
export type CliEnvironment = z.infer<typeof Env>;

const EXPECTED: Record<string, string> = {
  ROBOFLOW_API_KEY: 'your Roboflow private API key (environment variable is not set)',
  ROBOFLOW_API_URL: 'an http(s) URL such as https://api.roboflow.com',
  BUCKET_BRIDGE_WEBHOOK_SECRET: 'at least 32 characters of [A-Za-z0-9_-]',
  BUCKET_BRIDGE_STATE_DIR: 'a folder path',
};

/** Reads the environment the CLI depends on; errors name the variable and never echo secrets. */
export function cliEnvironment(env: NodeJS.ProcessEnv): CliEnvironment {
  const parsed = Env.safeParse({ ...env, ROBOFLOW_API_KEY: env.ROBOFLOW_API_KEY?.trim() || undefined });
  if (parsed.success) return parsed.data;
  const name = String(parsed.error.issues[0]!.path[0]);
  throw new InputError(name, EXPECTED[name] ?? 'a valid value');
}

/** The webhook path token: configured, or a fresh unguessable one per CLI run. */
export function webhookSecret(env: CliEnvironment): string {
  return env.BUCKET_BRIDGE_WEBHOOK_SECRET ?? randomBytes(32).toString('base64url');
}
