import { randomBytes } from 'node:crypto';
import { InputError } from '../shared/errors';
import type { Logger } from '../shared/log';
import type { TargetSpec } from '../shared/state/run-record';
import { ExtendClient } from '../shared/targets/extend/client';
import { ExtendTarget } from '../shared/targets/extend/target';
import { LlamaCloudClient } from '../shared/targets/llamacloud/client';
import { LlamaCloudTarget } from '../shared/targets/llamacloud/target';
import type { BatchTarget } from '../shared/targets/port';
import { RoboflowClient } from '../shared/targets/roboflow/client';
import { RoboflowTarget } from '../shared/targets/roboflow/target';
import type { CliEnvironment } from './environment';

/**
 * The target adapter of a run. `notificationsUrl` is where the target should post webhooks (it
 * carries the secret path token); absent when the run waits by polling.
 */
export function targetFor(spec: TargetSpec, env: CliEnvironment, log: Logger, notificationsUrl?: string): BatchTarget {
  const onRetry = (service: string) => (info: { path: string; attempt: number; delayMs: number; reason: string }) =>
    log.warn(`${service} call retried`, info);
  switch (spec.name) {
    case 'roboflow':
      return new RoboflowTarget(
        new RoboflowClient({ apiKey: env.ROBOFLOW_API_KEY!, workspace: spec.workspace, apiUrl: env.ROBOFLOW_API_URL, onRetry: onRetry('Roboflow') }),
        notificationsUrl,
      );
    case 'extend':
      // Extend posts to the endpoint registered in its dashboard; we only verify what arrives.
      if (notificationsUrl && !env.EXTEND_WEBHOOK_SIGNING_SECRET) {
        throw new InputError('EXTEND_WEBHOOK_SIGNING_SECRET', 'the signing secret of the Extend webhook endpoint (wss_…) when waiting on webhooks');
      }
      return new ExtendTarget(
        new ExtendClient({ apiKey: env.EXTEND_API_KEY!, apiUrl: env.EXTEND_API_URL, workspaceId: env.EXTEND_WORKSPACE_ID, onRetry: onRetry('Extend') }),
        spec.processor,
        env.EXTEND_WEBHOOK_SIGNING_SECRET,
      );
    case 'llamacloud':
      return new LlamaCloudTarget(
        new LlamaCloudClient({ apiKey: env.LLAMA_CLOUD_API_KEY!, apiUrl: env.LLAMA_CLOUD_BASE_URL, projectId: env.LLAMA_CLOUD_PROJECT_ID, onRetry: onRetry('LlamaCloud') }),
        {
          job: { type: spec.jobType, configurationId: spec.configurationId },
          // LlamaCloud signs each batch's webhooks with the secret given at creation: a fresh one per CLI run.
          webhook: notificationsUrl ? { url: notificationsUrl, signingSecret: randomBytes(32).toString('hex') } : undefined,
        },
      );
  }
}
