import type { TargetSpec } from '../state/run-record';
import { ExtendClient } from './extend/client';
import { ExtendTarget } from './extend/target';
import { LlamaCloudClient } from './llamacloud/client';
import { LlamaCloudTarget } from './llamacloud/target';
import type { BatchTarget } from './port';
import { RoboflowClient } from './roboflow/client';
import { RoboflowTarget } from './roboflow/target';

export interface RetryNotice {
  path: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

/** How to reach a target's API. The key is a credential: never log it. */
export interface TargetConnection {
  apiKey: string;
  apiUrl?: string;
  /** Extend: the workspace the key acts in (keys that span several). */
  extendWorkspaceId?: string;
  /** LlamaCloud: the project the key acts in. */
  llamaProjectId?: string;
  /** Roboflow: submit plain-http references URLs (local emulators, private endpoints). */
  allowHttpReferences?: boolean;
  onRetry?: (service: string, notice: RetryNotice) => void;
}

/** How the target's webhooks reach us and are verified; absent when the run waits by polling. */
export interface TargetWebhooks {
  /** Where the target should post (Roboflow, LlamaCloud); it carries the secret path token. */
  notificationsUrl?: string;
  /**
   * The HMAC secret of the target's signatures: Extend's endpoint secret (`wss_…`, issued by
   * Extend), or the secret we give LlamaCloud with each batch. Never derived from the path token,
   * which travels inside the URL.
   */
  signingSecret?: string;
}

/** The target adapter of a run, shared by the CLI and the deployed functions. */
export function createTarget(spec: TargetSpec, connection: TargetConnection, webhooks: TargetWebhooks = {}): BatchTarget {
  const { apiKey, apiUrl } = connection;
  const onRetry = (service: string) => (notice: RetryNotice) => connection.onRetry?.(service, notice);
  switch (spec.name) {
    case 'roboflow':
      return new RoboflowTarget(new RoboflowClient({ apiKey, apiUrl, workspace: spec.workspace, onRetry: onRetry('Roboflow') }), webhooks.notificationsUrl, {
        allowHttpReferences: connection.allowHttpReferences,
      });
    case 'extend':
      // Extend posts to the endpoint registered in its dashboard; we only verify what arrives.
      return new ExtendTarget(
        new ExtendClient({ apiKey, apiUrl, workspaceId: connection.extendWorkspaceId, onRetry: onRetry('Extend') }),
        spec.processor,
        webhooks.signingSecret,
      );
    case 'llamacloud': {
      const { notificationsUrl, signingSecret } = webhooks;
      if (notificationsUrl && !signingSecret) throw new Error('LlamaCloud webhooks need a signing secret');
      return new LlamaCloudTarget(new LlamaCloudClient({ apiKey, apiUrl, projectId: connection.llamaProjectId, onRetry: onRetry('LlamaCloud') }), {
        job: { type: spec.jobType, configurationId: spec.configurationId },
        webhook: notificationsUrl && signingSecret ? { url: notificationsUrl, signingSecret } : undefined,
      });
    }
  }
}
