import { randomBytes } from 'node:crypto';
import { InputError } from '../shared/errors';
import type { Logger } from '../shared/log';
import { registerSecrets } from '../shared/scrub-secrets';
import type { TargetSpec } from '../shared/state/run-record';
import { createTarget } from '../shared/targets/create-target';
import type { BatchTarget } from '../shared/targets/port';
import type { CliEnvironment } from './environment';

const API: Record<TargetSpec['name'], (env: CliEnvironment) => { apiKey: string; apiUrl: string }> = {
  roboflow: (env) => ({ apiKey: env.ROBOFLOW_API_KEY!, apiUrl: env.ROBOFLOW_API_URL }),
  extend: (env) => ({ apiKey: env.EXTEND_API_KEY!, apiUrl: env.EXTEND_API_URL }),
  llamacloud: (env) => ({ apiKey: env.LLAMA_CLOUD_API_KEY!, apiUrl: env.LLAMA_CLOUD_BASE_URL }),
};

/**
 * The target adapter of a CLI run. `webhook` is where the target should post (the URL carries the
 * secret path token); absent when the run waits by polling.
 */
export function targetFor(
  spec: TargetSpec,
  env: CliEnvironment,
  log: Logger,
  webhook?: { notificationsUrl: string },
  allowHttpReferences = false,
): BatchTarget {
  if (spec.name === 'extend' && webhook && !env.EXTEND_WEBHOOK_SIGNING_SECRET) {
    throw new InputError('EXTEND_WEBHOOK_SIGNING_SECRET', 'the signing secret of the Extend webhook endpoint (wss_…) when waiting on webhooks');
  }
  // LlamaCloud signs each batch's webhooks with the secret given at creation: a fresh one per CLI process.
  const signingSecret = spec.name === 'llamacloud' ? randomBytes(32).toString('hex') : env.EXTEND_WEBHOOK_SIGNING_SECRET;
  registerSecrets(signingSecret);
  return createTarget(
    spec,
    {
      ...API[spec.name](env),
      extendWorkspaceId: env.EXTEND_WORKSPACE_ID,
      llamaProjectId: env.LLAMA_CLOUD_PROJECT_ID,
      allowHttpReferences: allowHttpReferences || env.BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES,
      onRetry: (service, notice) => log.warn(`${service} call retried`, { ...notice }),
    },
    {
      notificationsUrl: webhook?.notificationsUrl,
      signingSecret,
    },
  );
}
