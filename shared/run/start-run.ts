import { errorMessage, InputError } from '../errors';
import { discover, type SkipReason } from '../pipeline/discover';
import { endRunFailed, failRun } from '../pipeline/fail-run';
import { ingestReferences } from '../pipeline/ingest';
import { credentialExpiryWarning } from '../pipeline/presign';
import type { RunRecord, RunSpec } from '../state/run-record';
import type { StoredObject } from '../storage/port';
import { batchIdFor, jobIdFor } from '../targets/roboflow/ids';
import type { BridgeDeps } from './deps';
import { newRunId } from './run-id';

/** Prefixes of the source bucket the bridge itself writes to. */
export function ownPrefixes(spec: RunSpec): string[] {
  const prefixes = [spec.manifestPrefix];
  if (spec.dest.scheme === spec.source.scheme && spec.dest.bucket === spec.source.bucket) prefixes.push(spec.dest.prefix);
  return prefixes;
}

export function checkSpec(spec: RunSpec): void {
  const sameBucket = spec.dest.scheme === spec.source.scheme && spec.dest.bucket === spec.source.bucket;
  if (sameBucket && spec.dest.prefix === '') {
    throw new InputError('dest', 'a prefix (e.g. s3://bucket/results/) when the destination is the source bucket', '');
  }
}

/**
 * Discovers, names, signs and submits everything under the source prefix. Returns the run once
 * every references file has been handed to the target; the chain stage takes over from there.
 */
export async function startRun(deps: BridgeDeps, spec: RunSpec, runId = newRunId()): Promise<RunRecord> {
  checkSpec(spec);
  const batchId = batchIdFor(runId);
  const now = new Date().toISOString();
  const run: RunRecord = {
    runId,
    batchId,
    jobId: jobIdFor(batchId),
    spec,
    phase: 'discovering',
    listed: 0,
    skipped: {},
    submitted: 0,
    chunks: [],
    submissionComplete: false,
    jobStarted: false,
    timings: {},
    createdAt: now,
    updatedAt: now,
  };
  await deps.state.createRun(run);
  const warning = await credentialExpiryWarning(deps.source, spec.urlLifetimeSeconds);
  if (warning) deps.log.warn(warning, { runId });

  const counts = { listed: 0, skipped: {} as Partial<Record<SkipReason, number>> };
  try {
    const submitted = await ingestReferences(deps, run, acceptedObjects(deps, spec, counts));
    const updated = await deps.state.updateRun(runId, (r) => ({
      ...r,
      phase: 'ingesting',
      listed: counts.listed,
      skipped: counts.skipped as Record<string, number>,
      submissionComplete: true,
      timings: { ...r.timings, submittedAt: new Date().toISOString() },
    }));
    deps.log.info('references submitted', { runId, listed: counts.listed, submitted, chunks: updated.chunks.length });
    if (submitted === 0) {
      await endRunFailed(deps, runId, `nothing to submit: no ${spec.media} found under ${spec.source.bucket}/${spec.source.prefix}`);
    }
    return (await deps.state.getRun(runId))!;
  } catch (err) {
    await deps.state.updateRun(runId, (r) => ({ ...r, listed: counts.listed, skipped: counts.skipped as Record<string, number> }));
    const reason = `submission failed: ${errorMessage(err)}`;
    // If the destination cannot take the summary either, the run still ends failed in state.
    await endRunFailed(deps, runId, reason).catch(() => failRun(deps.state, runId, reason));
    throw err;
  }
}

async function* acceptedObjects(
  deps: BridgeDeps,
  spec: RunSpec,
  counts: { listed: number; skipped: Partial<Record<SkipReason, number>> },
): AsyncGenerator<StoredObject[]> {
  const pages = discover(deps.source, {
    prefix: spec.source.prefix,
    media: spec.media,
    excludePrefixes: ownPrefixes(spec),
    pageSize: deps.pageSize,
  });
  for await (const page of pages) {
    const accepted: StoredObject[] = [];
    for (const item of page) {
      if ('accepted' in item) accepted.push(item.accepted);
      else {
        counts.skipped[item.reason] = (counts.skipped[item.reason] ?? 0) + 1;
        if (item.reason === 'too-large') deps.log.warn('image over 20 MiB skipped', { key: item.skipped.key, bytes: item.skipped.size });
      }
    }
    counts.listed += page.length;
    deps.progress('listed', page.length);
    if (accepted.length > 0) yield accepted;
  }
}
