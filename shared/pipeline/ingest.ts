import { mapLimit } from '../concurrency';
import type { Logger } from '../log';
import type { ProgressListener } from '../progress';
import type { StateStore } from '../state/port';
import type { Chunk, RunRecord } from '../state/run-record';
import type { ObjectStore, StoredObject } from '../storage/port';
import type { BatchTarget, SignedReference } from '../targets/port';
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
  signConcurrency?: number;
}

export function manifestKey(run: RunRecord, index: number): string {
  return `${run.spec.manifestPrefix}${run.runId}/references-${String(index).padStart(5, '0')}.jsonl`;
}

/**
 * The references file being filled: objects are named and signed a page at a time and their
 * lines streamed into the bucket; `submit` closes the file and hands it to the target.
 */
export class OpenChunk {
  private readonly file: ReferencesFile;
  /** Kept only for targets that take references inline or upload objects (a chunk is small for them). */
  private readonly inline: SignedReference[] | undefined;

  constructor(
    private readonly deps: IngestDeps,
    private readonly run: RunRecord,
    readonly index: number,
    /** A retry chunk carries objects whose names the run already recorded. */
    private readonly options: { recordNames: boolean; retry?: boolean } = { recordNames: true },
  ) {
    this.file = new ReferencesFile(deps.source, manifestKey(run, index));
    this.inline = deps.target.intake === 'references-file' ? undefined : [];
  }

  get lines(): number {
    return this.file.lines;
  }

  async add(objects: StoredObject[]): Promise<void> {
    const { deps, run } = this;
    const refs = await mapLimit(objects, deps.signConcurrency ?? 16, async (o) => ({
      name: referenceName(o.key),
      key: o.key,
      url: await presignObject(deps.source, o.key, run.spec.urlLifetimeSeconds),
    }));
    deps.progress('signed', refs.length);
    if (this.options.recordNames) await deps.state.appendNames(run.runId, refs.map(({ name, key }) => ({ name, key })));
    await this.file.addAll(refs);
    this.inline?.push(...refs);
  }

  /** Stores the file, signs it and submits it with the chunk's deterministic ingest id. */
  async submit(): Promise<Chunk> {
    const { deps, run, index } = this;
    await this.file.close();
    const chunk: Chunk = {
      index,
      ingestId: ingestIdFor(run.batchId, index),
      manifestKey: this.file.key,
      references: this.file.lines,
      status: 'written',
      ...(this.options.retry ? { retry: true } : {}),
    };
    // Re-submitting after a crash: keep what the chunk's notifications already reported.
    await deps.state.updateChunk(run.runId, chunk, (earlier) =>
      earlier?.ingestId === chunk.ingestId ? { ...earlier, manifestKey: chunk.manifestKey, references: chunk.references } : chunk,
    );
    const referencesUrl = await presignObject(deps.source, this.file.key, run.spec.urlLifetimeSeconds);
    deps.log.info('submitting references file', { runId: run.runId, key: this.file.key, references: this.file.lines, ingestId: chunk.ingestId });
    const receipt = await deps.target.submitChunk(run, { ingestId: chunk.ingestId, referencesUrl, references: this.inline });
    if (receipt.ref) await deps.state.linkJob(receipt.ref, run.runId);
    return {
      ...chunk,
      status: receipt.ingested ? 'ingested' : 'submitted',
      duplicated: receipt.duplicated,
      shardIds: receipt.shardIds,
      targetRef: receipt.ref,
    };
  }
}
