import { randomBytes } from 'node:crypto';
import type { SourceConfig } from '../config/bridge-config';
import { isMediaKey } from '../media';
import { countRunStarted, countSubmissionStep } from '../metrics/run-metrics';
import type { RunRecord } from '../state/run-record';
import type { StoredObject } from '../storage/port';
import type { ServerlessPorts } from './serverless-ports';
import { preflightSource } from './preflight-source';
import { stamp } from './run-id';
import { sourceById, specForSource } from './source-spec';
import { createRun } from './start-run';
import { continueSubmission, ownPrefixes } from './submit-run';

export interface CreatedObject {
  bucket: string;
  key: string;
  size: number;
  etag?: string;
}

/** Configured sources (with object-created runs on) that an object belongs to. */
export function sourcesOf(ports: ServerlessPorts, object: CreatedObject): SourceConfig[] {
  return ports.config.sources.filter((s) => {
    if (!s.onObjectCreated || s.bucket !== object.bucket || !object.key.startsWith(s.prefix)) return false;
    const spec = specForSource(ports.config, s);
    // The bridge's own outputs never trigger a run, and neither does anything the run would skip.
    return !ownPrefixes(spec).some((p) => p !== '' && object.key.startsWith(p)) && isMediaKey(object.key, s.media);
  });
}

/**
 * Adds created objects to their sources' pending batches (a replayed event adds nothing) and
 * schedules a flush check: at once when a batch is full, else after the quiet period.
 */
export async function recordCreatedObjects(ports: ServerlessPorts, objects: CreatedObject[], now: Date): Promise<void> {
  const bySource = new Map<string, StoredObject[]>();
  for (const o of objects) {
    for (const source of sourcesOf(ports, o)) {
      const list = bySource.get(source.id) ?? [];
      list.push({ key: o.key, size: o.size, etag: o.etag, lastModified: now });
      bySource.set(source.id, list);
    }
  }
  const { quietSeconds, maxObjects } = ports.config.debounce;
  for (const [sourceId, list] of bySource) {
    const state = await ports.pending.add(sourceId, list, now);
    if (state.pending >= maxObjects) {
      await ports.queues.submissions.send([{ kind: 'flush', sourceId }]);
    } else if (state.pending <= list.length) {
      // This add started the batch: one flush check follows it, and re-arms itself until the batch goes.
      await ports.queues.submissions.send([{ kind: 'flush', sourceId }], { delaySeconds: quietSeconds });
    }
  }
}

/**
 * Turns a source's pending batch into a run once it is full or has been quiet long enough;
 * otherwise checks again when the quiet period would end. Each pending object goes to one run.
 */
export async function flushPending(ports: ServerlessPorts, sourceId: string, now: Date): Promise<string | undefined> {
  const source = sourceById(ports.config, sourceId);
  const { quietSeconds, maxObjects } = ports.config.debounce;
  const state = await ports.pending.state(sourceId);
  if (!state || state.pending === 0) return undefined;
  const quietForMs = now.getTime() - state.lastEventAt.getTime();
  const spec = specForSource(ports.config, source);
  const deps = await ports.depsFor(spec);
  // A run's batch fits one submission of the target, so it goes in as a single page.
  const limit = Math.min(maxObjects, deps.target.maxPerChunk(spec.media));
  if (state.pending < limit && quietForMs < quietSeconds * 1000) {
    const wait = Math.min(900, Math.max(1, Math.ceil((quietSeconds * 1000 - quietForMs) / 1000)));
    await ports.queues.submissions.send([{ kind: 'flush', sourceId }], { delaySeconds: wait });
    return undefined;
  }

  // A failed preflight leaves every object pending: nothing is claimed, created or submitted.
  await preflightSource(ports, deps, spec, sourceId);
  const objects = await ports.pending.claim(sourceId, limit);
  if (objects.length === 0) return undefined;
  const runId = `o-${sourceId}-${stamp(now)}-${randomBytes(3).toString('hex')}`;
  let created: RunRecord;
  try {
    created = await createRun(deps, spec, runId);
  } catch (err) {
    // Nothing was submitted: give the objects back to the batch for the next flush.
    await ports.pending.add(sourceId, objects, now);
    throw err;
  }
  countRunStarted(ports.metrics, created, 'object-created');
  const result = await continueSubmission(deps, runId, { pages: onePage(objects) });
  const after = await ports.state.getRun(runId);
  if (after) countSubmissionStep(ports.metrics, created, after);
  if (result === 'submitted') await ports.queues.startJob.send([{ kind: 'advance', runId }]);
  if (state.pending > objects.length) await ports.queues.submissions.send([{ kind: 'flush', sourceId }]);
  return runId;
}

async function* onePage(objects: StoredObject[]) {
  yield { objects, nextToken: undefined };
}
