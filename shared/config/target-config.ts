import { z } from 'zod';
import type { MediaKind } from '../media';
import { JobOptions, type TargetSpec } from '../state/run-record';
import { Slug } from '../targets/roboflow/ids';

/** Ids other services issue (Extend processors, LlamaCloud configurations, workspaces, projects). */
export const ExternalId = z.string().regex(/^[A-Za-z0-9_:.-]{1,128}$/, 'an id of letters, digits and _ : . - (at most 128)');

const ApiUrl = z.string().url().optional();

/**
 * The target of a deployment: the run settings of `TargetSpec` plus where the API lives. API keys
 * and signing secrets are never part of the configuration; they live in Secrets Manager.
 */
export const DeployedTarget = z.discriminatedUnion('name', [
  z.object({
    name: z.literal('roboflow'),
    workspace: Slug,
    workflowId: Slug,
    job: JobOptions.default({}),
    apiUrl: ApiUrl,
    /** Submit plain-http references URLs (private S3-compatible endpoints); Roboflow's official client refuses them, the API's answer is not documented. */
    allowHttpReferences: z.boolean().optional(),
    /** How objects reach Roboflow: signed references, uploads, or references unless the plan refuses them (default). */
    ingest: z.enum(['references', 'upload', 'auto']).optional(),
  }),
  z.object({
    name: z.literal('extend'),
    processor: z.object({ kind: z.enum(['extract', 'classify', 'split']).default('extract'), id: ExternalId, version: ExternalId.optional() }),
    workspaceId: ExternalId.optional(),
    apiUrl: ApiUrl,
  }),
  z.object({
    name: z.literal('llamacloud'),
    jobType: z.enum(['parse_v2', 'extract_v2']).default('parse_v2'),
    configurationId: ExternalId,
    projectId: ExternalId.optional(),
    apiUrl: ApiUrl,
  }),
]);
export type DeployedTarget = z.infer<typeof DeployedTarget>;

/** How each target is named to people (descriptions, outputs, resource ids). */
export const SERVICE_NAME: Record<TargetSpec['name'], string> = { roboflow: 'Roboflow', extend: 'Extend', llamacloud: 'LlamaCloud' };

/** What each target processes; the first is a source's default. */
export const MEDIA_OF_TARGET: Record<TargetSpec['name'], readonly MediaKind[]> = {
  roboflow: ['images', 'videos'],
  extend: ['documents'],
  llamacloud: ['documents'],
};

/**
 * How long signed URLs live unless configured. Roboflow may ingest hours after submission, so a
 * day. Extend asks for short-lived URLs and starts a batch on submission; inputs it could not fetch
 * in time are signed again, so an hour. LlamaCloud never sees a URL: the bridge downloads each
 * object while uploading it, at once.
 */
export const DEFAULT_URL_LIFETIME_SECONDS: Record<TargetSpec['name'], number> = {
  roboflow: 24 * 60 * 60,
  extend: 60 * 60,
  llamacloud: 60 * 60,
};

/** The run settings of a deployed target (what a run records in its spec). */
export function runTarget(target: DeployedTarget): TargetSpec {
  switch (target.name) {
    case 'roboflow':
      return { name: 'roboflow', workspace: target.workspace, workflowId: target.workflowId, job: target.job };
    case 'extend':
      return { name: 'extend', processor: target.processor };
    case 'llamacloud':
      return { name: 'llamacloud', jobType: target.jobType, configurationId: target.configurationId };
  }
}
