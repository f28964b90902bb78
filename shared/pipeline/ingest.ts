import { mapLimit } from '../concurrency';
import type { Logger } from '../log';
import { MAX_REFERENCES_PER_CHUNK } from '../media';
import type { ProgressListener } from '../progress';
import type { StateStore } from '../state/port';
import type { Chunk, RunRecord } from '../state/run-record';
import type { ObjectStore, StoredObject } from '../storage/port';
import type { BatchTarget } from '../targets/port';
import { ingestIdFor } from '../targets/roboflow/ids';
import { referenceName } from './name';
import { presignObject } from './presign';
import { ReferencesFile } from './references-file';

export interface IngestDeps {
  source: ObjectStore;
  state: StateStore;
  target: BatchTarget;
  log: Logger;
  progress: ProgressListener;
  /** Lines per references file; defaults to the target's per-request limit for the media kind. */
  chunkSize?: number;
  signConcurrency?: number;
}

export function manifestKey(run: RunRecord, index: number): string {
  return `${run.spec.manifestPrefix}${run.runId}/references-${String(index).padStart(5, '0')}.jsonl`;
}

/**
 * Names and signs every accepted object, streams the references into JSONL files of at most
 * `chunkSize` lines, and submits each file to the target as soon as it is complete.
 * Returns how many references were submitted.
 */
export async function ingestReferences(deps: IngestDeps, run: RunRecord, accepted: AsyncIterable<StoredObject[]>): Promise<number> {
  const chunkSize = deps.chunkSize ?? MAX_REFERENCES_PER_CHUNK[run.spec.media];
  let file: ReferencesFile | undefined;
  let index = 0;
  let submitted = 0;

  for await (const objects of accepted) {
    const refs = await mapLimit(objects, deps.signConcurrency ?? 16, async (o) => ({
      name: referenceName(o.key),
      key: o.key,
      url: await presignObject(deps.source, o.key, run.spec.urlLifetimeSeconds),
    }));
    deps.progress('signed', refs.length);
    await deps.state.appendNames(run.runId, refs.map(({ name, key }) => ({ name, key })));
    for (const { name, url } of refs) {
      file ??= new ReferencesFile(deps.source, manifestKey(run, index));
      await file.add({ name, url });
      if (file.lines >= chunkSize) {
        submitted += await submitFile(deps, run, index++, file);
        file = undefined;
      }
    }
  }
  if (file) submitted += await submitFile(deps, run, index++, file);
  return submitted;
}

async function submitFile(deps: IngestDeps, run: RunRecord, index: number, file: ReferencesFile): Promise<number> {
  await file.close();
  const chunk: Chunk = {
    index,
    ingestId: ingestIdFor(run.batchId, index),
    manifestKey: file.key,
    references: file.lines,
    status: 'written',
  };
  await deps.state.updateRun(run.runId, (r) => ({ ...r, chunks: [...r.chunks.filter((c) => c.index !== index), chunk] }));
  const referencesUrl = await presignObject(deps.source, file.key, run.spec.urlLifetimeSeconds);
  deps.log.info('submitting references file', { runId: run.runId, key: file.key, references: file.lines, ingestId: chunk.ingestId });
  const res = await deps.target.submitChunk(run, { ingestId: chunk.ingestId, referencesUrl });
  await deps.state.updateRun(run.runId, (r) => ({
    ...r,
    submitted: r.submitted + file.lines,
    chunks: r.chunks.map((c) =>
      c.index === index
        ? // A fast webhook may already have moved the chunk on; never move it back.
          { ...c, status: c.status === 'written' ? 'submitted' : c.status, duplicated: res.duplicated, shardIds: res.shardIds }
        : c,
    ),
  }));
  return file.lines;
}
