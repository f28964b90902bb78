import type { RunRecord } from '../../state/run-record';
import type { JobDefinition } from './request-schemas';

/**
 * The job a run starts; built only from the run's fixed spec and the deployment's webhook URL, so a
 * replay sends the identical body.
 */
export function jobDefinitionFor(run: RunRecord, notificationsUrl?: string): JobDefinition {
  const { spec } = run;
  if (spec.target.name !== 'roboflow') throw new Error(`run ${run.runId} is for ${spec.target.name}, not Roboflow`);
  const { workspace, workflowId, job } = spec.target;
  const images = spec.media === 'images';
  return {
    type: images ? 'simple-image-processing-v1' : 'simple-video-processing-v1',
    jobInput: { type: 'staging-batch-input-v1', batchId: run.batchId },
    computeConfiguration: {
      type: 'compute-configuration-v2',
      machineType: job.machineType,
      workersPerMachine: job.workersPerMachine,
    },
    processingTimeoutSeconds: job.processingTimeoutSeconds,
    maxParallelTasks: job.maxParallelTasks,
    processingSpecification: {
      type: 'workflows-processing-specification-v1',
      workspace,
      workflowId,
      aggregationFormat: job.aggregationFormat,
      maxVideoFPS: images ? undefined : job.maxVideoFps,
    },
    notificationsURL: notificationsUrl,
  };
}

/** Roboflow's client omits unset optionals instead of sending null; so do we. */
export function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
