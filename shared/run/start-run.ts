import { randomBytes } from 'node:crypto';
import { InputError } from '../errors';
import { credentialExpiryWarning } from '../pipeline/presign';
import type { RunRecord, RunSpec } from '../state/run-record';
import { batchIdFor, jobIdFor } from '../targets/roboflow/ids';
import type { BridgeDeps } from './deps';
import { preflight } from './preflight';
import { newRunId } from './run-id';
import { continueSubmission, type SubmitOptions } from './submit-run';

export function checkSpec(spec: RunSpec): void {
  const sameBucket = spec.dest.scheme === spec.source.scheme && spec.dest.bucket === spec.source.bucket;
  if (sameBucket && spec.dest.prefix === '') {
    throw new InputError('dest', 'a prefix (e.g. s3://bucket/results/) when the destination is the source bucket', '');
  }
}

/** The record of a run nothing has happened to yet: ids derived from the run id. */
export function newRunRecord(runId: string, spec: RunSpec, now = new Date()): RunRecord {
  const batchId = batchIdFor(runId);
  return {
    runId,
    batchId,
    jobId: jobIdFor(batchId),
    nonce: randomBytes(6).toString('base64url'),
    spec,
    phase: 'discovering',
    listed: 0,
    skipped: {},
    submitted: 0,
    checkpoint: { nextChunk: 0 },
    retried: false,
    submissionComplete: false,
    jobStarted: false,
    timings: {},
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

export interface StartOptions extends SubmitOptions {
  /** Called once the run exists in state, before anything is submitted (the CLI takes ownership). */
  onCreated?: (run: RunRecord) => Promise<void>;
}

/** A new run in state, nothing submitted yet. */
export async function createRun(deps: BridgeDeps, spec: RunSpec, runId = newRunId()): Promise<RunRecord> {
  checkSpec(spec);
  const run = newRunRecord(runId, spec);
  await deps.state.createRun(run);
  const warning = await credentialExpiryWarning(deps.source, spec.urlLifetimeSeconds);
  if (warning) deps.log.warn(warning, { runId });
  return run;
}

/**
 * Checks that the run can work end to end (see preflight), then creates it and submits everything
 * under its source prefix in one go (the CLI's path; Lambda functions call createRun and
 * continueSubmission across invocations). The chain stage takes over once every references file
 * is with the target.
 */
export async function startRun(deps: BridgeDeps, spec: RunSpec, runId = newRunId(), options: StartOptions = {}): Promise<RunRecord> {
  checkSpec(spec);
  await preflight(deps, spec);
  const run = await createRun(deps, spec, runId);
  await options.onCreated?.(run);
  await continueSubmission(deps, run.runId, options);
  return (await deps.state.getRun(run.runId))!;
}
