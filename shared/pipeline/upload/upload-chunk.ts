import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from '../../concurrency';
import { errorMessage, RemoteError } from '../../errors';
import { putSigned } from '../../http/signed-put';
import type { Chunk, FileFailure, RunRecord } from '../../state/run-record';
import type { StoredObject } from '../../storage/port';
import type { UploadIntake, UploadSlot } from '../../targets/port';
import { ingestIdFor } from '../../targets/roboflow/ids';
import type { IngestDeps } from '../ingest';
import { referenceName } from '../name';
import { hasIndex, withIndex } from './index-ranges';
import { planArchives, type ArchiveLimits, type PlannedArchive, type PlannedMember } from './archive-plan';
import { ListedSize, MemberFailed, readMember, tarStream } from './tar-stream';
import { tarBytes } from './tar-size';

/** Roboflow's guidance when it states no limit: up to 500 images per archive. */
export const DEFAULT_ARCHIVE_MEMBERS = 500;
/** Largest archive when the target states no limit. */
export const DEFAULT_ARCHIVE_BYTES = 512 * 1024 * 1024;
/** Archives (or videos) streamed at once per chunk. */
export const UPLOAD_CONCURRENCY = 4;
/** Attempts per archive when the PUT fails transiently (each with a fresh slot). */
const PUT_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1_000;

export interface UploadChunkOptions {
  /** The names were recorded already (a references submission of the same chunk was refused). */
  namesRecorded?: boolean;
  /** Asked before each archive starts; true leaves the rest of the chunk to a later invocation. */
  shouldYield?: () => boolean;
}

/**
 * One chunk in upload mode: its objects (in listing order) are planned into tar archives of images,
 * or one PUT per video, and each is streamed from the source to a signed PUT. Every archive put is
 * recorded in the chunk (`archivesSent`), so a chunk resumed after a crash or a yield plans the same
 * archives and sends only those not yet recorded. Objects that cannot be sent as listed are
 * recorded as failed files with their key; the archive is sent again without them.
 */
export class UploadChunk {
  constructor(
    private readonly deps: IngestDeps & { uploads: UploadIntake },
    private readonly run: RunRecord,
    readonly index: number,
    private readonly options: UploadChunkOptions = {},
  ) {}

  /** The chunk as submitted (every archive put), or undefined when it yielded first. */
  async submit(objects: readonly StoredObject[]): Promise<Chunk | undefined> {
    const { deps, run, index } = this;
    const members: PlannedMember[] = objects.map((o) => ({ key: o.key, name: referenceName(o.key), size: o.size }));
    const { chunk: recorded, fresh } = await this.start(members);
    const videos = run.spec.media === 'videos';
    let firstSlot: UploadSlot | undefined;
    let limits: ArchiveLimits;
    if (videos) limits = { maxMembers: 1, maxBytes: Number.MAX_SAFE_INTEGER };
    else ({ limits, slot: firstSlot } = await this.archiveLimits());
    const plan = videos ? onePerArchive(members) : planArchives(members, limits);
    // Recorded once, with the chunk: a resumed chunk plans them out again.
    if (fresh) await this.fail(plan.tooLarge, 'too-large', `over the ${limits.maxBytes} bytes an upload archive may have`);

    const sent = recorded.archivesSent ?? [];
    const pending = plan.archives.filter((a) => !hasIndex(sent, a.index));
    let yielded = false;
    await mapLimit(pending, UPLOAD_CONCURRENCY, async (archive) => {
      if (yielded || this.options.shouldYield?.()) return void (yielded = true);
      const slot = firstSlot;
      firstSlot = undefined;
      await this.send(archive, slot);
      await this.markSent(archive.index);
      deps.progress('signed', archive.members.length);
    });
    if (yielded) {
      deps.log.info('upload yielded mid-chunk', { runId: run.runId, chunk: index, archives: plan.archives.length });
      return undefined;
    }
    deps.log.info('chunk uploaded', { runId: run.runId, chunk: index, objects: members.length, archives: plan.archives.length });
    // Uploads send no ingest notifications: the batch count confirms them.
    return { ...recorded, status: 'ingested', archivesSent: plan.archives.length > 0 ? [[0, plan.archives.length - 1]] : [] };
  }

  /**
   * Records the chunk's names (every time it is built, as references chunks do: the CLI's resume
   * drops names past the checkpoint first; deployed, names are keyed) and finds the chunk's record,
   * or creates it on its first submission.
   */
  private async start(members: PlannedMember[]): Promise<{ chunk: Chunk; fresh: boolean }> {
    const { deps, run, index } = this;
    if (!this.options.namesRecorded) await deps.state.appendNames(run.runId, members.map(({ name, key }) => ({ name, key })));
    const chunk: Chunk = { index, ingestId: ingestIdFor(run.batchId, index), manifestKey: '', references: members.length, status: 'written', archivesSent: [] };
    let fresh = false;
    const stored = await deps.state.updateChunk(run.runId, chunk, (earlier) => {
      fresh = earlier?.archivesSent === undefined;
      return fresh ? chunk : undefined;
    });
    return { chunk: stored ?? chunk, fresh };
  }

  /** The run's archive limits: fixed by its first slot (kept with the run), so every plan of a chunk is the same. */
  private async archiveLimits(): Promise<{ limits: ArchiveLimits; slot?: UploadSlot }> {
    const { deps, run } = this;
    const stored = (await deps.state.getRun(run.runId))?.uploadLimits;
    if (stored) return { limits: stored };
    const slot = await deps.uploads.archiveSlot(run);
    const limits = {
      maxMembers: Math.min(slot.maxMembers ?? DEFAULT_ARCHIVE_MEMBERS, DEFAULT_ARCHIVE_MEMBERS),
      maxBytes: Math.min(slot.maxBytes ?? DEFAULT_ARCHIVE_BYTES, DEFAULT_ARCHIVE_BYTES),
    };
    const updated = await deps.state.updateRun(run.runId, (r) => (r.uploadLimits ? r : { ...r, uploadLimits: limits }));
    return { limits: updated.uploadLimits ?? limits, slot };
  }

  /** Puts one archive (or video); members that fail are recorded and the rest sent again. */
  private async send(archive: PlannedArchive, slot: UploadSlot | undefined): Promise<void> {
    const { deps, run } = this;
    let members = archive.members;
    let attempt = 1;
    const label = run.spec.media === 'videos' ? members[0]!.key : `archive ${archive.index} of chunk ${this.index}`;
    while (members.length > 0) {
      const current = slot ?? (await this.slotFor(members));
      slot = undefined;
      if (run.spec.media === 'videos' && current.maxBytes !== undefined && members[0]!.size > current.maxBytes) {
        return this.fail(members, 'too-large', `over the ${current.maxBytes} bytes Roboflow takes for one video`);
      }
      if (run.spec.media === 'images') checkFits(current, members, label);
      try {
        if (run.spec.media === 'videos') {
          const video = members[0]!;
          const body = (await readMember(deps.source, video)).pipe(new ListedSize(video.key, video.size));
          await putSigned(current.url, body, video.size, current.headers, label);
        } else {
          await putSigned(current.url, tarStream(deps.source, members), tarBytes(members), current.headers, label);
        }
        return;
      } catch (err) {
        if (err instanceof MemberFailed) {
          await this.fail(members.filter((m) => m.key === err.key), err.type, errorMessage(err));
          members = members.filter((m) => m.key !== err.key);
          continue;
        }
        if (!(err instanceof RemoteError && err.retryable) || attempt >= PUT_ATTEMPTS) throw err;
        deps.log.warn('upload failed; trying again', { runId: run.runId, upload: label, attempt, reason: errorMessage(err) });
        attempt++;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  private slotFor(members: PlannedMember[]): Promise<UploadSlot> {
    return this.run.spec.media === 'videos' ? this.deps.uploads.fileSlot(this.run, members[0]!.name) : this.deps.uploads.archiveSlot(this.run);
  }

  private async markSent(archiveIndex: number): Promise<void> {
    const { index } = this;
    await this.deps.state.updateChunk(this.run.runId, { index }, (c) => c && { ...c, archivesSent: withIndex(c.archivesSent ?? [], archiveIndex) });
  }

  private async fail(members: readonly PlannedMember[], type: string, reason: string): Promise<void> {
    if (members.length === 0) return;
    for (const m of members) this.deps.log.warn('object not uploaded', { runId: this.run.runId, key: m.key, type });
    const failures: FileFailure[] = members.map((m) => ({ name: m.name, key: m.key, stage: 'ingest', type, reason }));
    await this.deps.state.recordFailures(this.run.runId, failures);
  }
}

/** Videos go one per PUT: each is its own "archive" in the chunk's plan. */
function onePerArchive(members: PlannedMember[]) {
  return { archives: members.map((m, index) => ({ index, members: [m], bytes: m.size })), tooLarge: [] as PlannedMember[] };
}

/** A fresh slot whose limits are tighter than the plan's cannot take the planned archive. */
function checkFits(slot: UploadSlot, members: PlannedMember[], label: string): void {
  const bytes = tarBytes(members);
  if ((slot.maxMembers !== undefined && members.length > slot.maxMembers) || (slot.maxBytes !== undefined && bytes > slot.maxBytes)) {
    throw new RemoteError(`upload of ${label} refused before sending: ${members.length} object(s), ${bytes} bytes is over the slot's limits (${slot.maxMembers ?? '-'} objects, ${slot.maxBytes ?? '-'} bytes)`);
  }
}
