import { OpenChunk } from '../pipeline/ingest';
import { UploadChunk } from '../pipeline/upload/upload-chunk';
import type { Chunk, RunRecord } from '../state/run-record';
import type { StoredObject } from '../storage/port';
import type { BridgeDeps } from './deps';

export type SettledMode = 'references' | 'upload';

/**
 * The run's ingest mode as it stands: the one recorded with the run, else the one asked for
 * (`auto`: references until the target refuses them for the plan). Targets without uploads only
 * take references.
 */
export class IngestChoice {
  current: SettledMode | 'auto';
  /** The mode is stored with the run. */
  settled: boolean;

  constructor(
    private readonly deps: BridgeDeps,
    private readonly run: RunRecord,
  ) {
    this.current = !deps.target.uploads ? 'references' : (run.ingest?.mode ?? run.spec.ingest ?? 'auto');
    this.settled = run.ingest !== undefined || !deps.target.uploads;
  }

  /** Stores the mode with the run (once) and why; the summary shows it. */
  async settle(mode: SettledMode, reason: string): Promise<void> {
    if (this.settled && this.current === mode) return;
    const wasAuto = this.current === 'auto';
    this.current = mode;
    this.settled = true;
    await this.deps.state.updateRun(this.run.runId, (r) => (r.ingest?.mode === mode ? r : { ...r, ingest: { mode, reason } }));
    if (wasAuto && mode === 'upload') this.deps.log.warn('switching to uploads', { runId: this.run.runId, reason });
  }

  /** Why the mode was chosen, when it was asked for rather than found out. */
  get askedReason(): string {
    return `asked for (ingest: ${this.run.spec.ingest})`;
  }
}

/**
 * The chunk being filled from listing pages, submitted in the run's ingest mode: a references
 * file (signed as it fills), or the objects' bytes uploaded. In `auto` mode the objects are kept
 * too, so a references submission the plan refuses is sent as uploads instead: the refused
 * submission staged nothing, so nothing is sent twice.
 */
export class PendingChunk {
  private readonly references?: OpenChunk;
  /** The chunk's objects, kept for uploads and for the ledger only. */
  readonly objects: StoredObject[] = [];
  private count = 0;

  constructor(
    private readonly deps: BridgeDeps,
    private readonly run: RunRecord,
    readonly index: number,
    private readonly choice: IngestChoice,
  ) {
    if (choice.current !== 'upload') this.references = new OpenChunk(deps, run, index);
  }

  get lines(): number {
    return this.count;
  }

  async add(objects: StoredObject[]): Promise<void> {
    await this.references?.add(objects);
    if (this.deps.ledger || this.choice.current !== 'references') this.objects.push(...objects);
    this.count += objects.length;
  }

  /** The chunk as submitted, or undefined when an upload yielded before its last archive. */
  async submit(shouldYield?: () => boolean): Promise<Chunk | undefined> {
    const { deps, choice } = this;
    if (!this.references) {
      await choice.settle('upload', choice.askedReason);
      return this.upload({ shouldYield });
    }
    try {
      const chunk = await this.references.submit();
      await choice.settle('references', choice.current === 'auto' ? 'Roboflow took the signed-URL references' : choice.askedReason);
      return chunk;
    } catch (err) {
      const refusal = choice.current === 'auto' ? deps.target.uploads?.referencesRefusal(err) : undefined;
      if (!refusal) throw err;
      await choice.settle('upload', `${refusal}; switched to uploads`);
      return this.upload({ shouldYield, namesRecorded: true });
    }
  }

  private upload(options: { shouldYield?: () => boolean; namesRecorded?: boolean }): Promise<Chunk | undefined> {
    const uploads = this.deps.target.uploads;
    if (!uploads) throw new Error(`${this.deps.target.name} takes no uploads`);
    return new UploadChunk({ ...this.deps, uploads }, this.run, this.index, options).submit(this.objects);
  }
}
