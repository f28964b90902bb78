import type { RunRecord } from '../../state/run-record';
import type { JobDefinition } from './request-schemas';

/**
 * The job a run starts; built only from the run's fixed spec and the deployment's webhook URL, so a
 * replay sends the identical body.
 */
export function jobDefinitionFor(run: RunRecord, notificationsUrl?: string): JobDefinition {
  const { spec } = run;
  const images = spec.media === 'images';
  return {
    type: images ? 'simple-image-processing-v1' : 'simple-video-processing-v1',
    jobInput: { type: 'staging-batch-input-v1', batchId: run.batchId },
    computeConfiguration: {
      type: 'compute-configuration-v2',
      machineType: spec.job.machineType,
      workersPerMachine: spec.job.workersPerMachine,
    },
    processingTimeoutSeconds: spec.job.processingTimeoutSeconds,
    maxParallelTasks: spec.job.maxParallelTasks,
    processingSpecification: {
      type: 'workflows-processing-specification-v1',
      workspace: spec.workspace,
      workflowId: spec.workflowId,
      aggregationFormat: spec.job.aggregationFormat,
      maxVideoFPS: images ? undefined : spec.job.maxVideoFps,
    },
    notificationsURL: notificationsUrl,
  };
}

/** Roboflow's client omits unset optionals instead of sending null; so do we. */
export function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
