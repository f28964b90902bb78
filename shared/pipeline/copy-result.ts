import { errorMessage, RemoteError } from '../errors';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '../http/retry-policy';
import type { Logger } from '../log';
import type { ProgressListener } from '../progress';
import type { ObjectStore } from '../storage/port';
import type { BatchTarget, OpenedOutput, OutputLocator } from '../targets/port';
import { isArchive, unpackArchive, type ArchiveLimits } from './archive';
import { CopyDeadlineError, FinalCopyError } from './copy-errors';
import { MemberWrites } from './member-writes';

export interface CopyDeps {
  dest: ObjectStore;
  target: BatchTarget;
  log: Logger;
  progress: ProgressListener;
}

/** One result file and where its objects go. */
export interface CopyJob {
  /** `<part>/<file>`: names the file in messages (never the locator, a credential). */
  label: string;
  fileName: string;
  locator: OutputLocator;
  /** `<run folder><part>/` */
  folder: string;
  /** Store a .tar/.tar.gz as it is instead of unpacking it. */
  keepArchive: boolean;
}

export interface CopyTime {
  /** Milliseconds the copy may take, attempts and removals of what failed included. */
  ms: number;
  /** The bound is the time the function has left, not the copy deadline. */
  functionTime: boolean;
}

/**
 * Copies one result file into its folder (archives unpacked unless kept) within its time,
 * retrying transient failures only. Whatever makes an attempt fail, every object it wrote is
 * removed again before the next attempt or the failure: the file is in the bucket whole or not at all.
 */
export async function copyResultFile(
  deps: CopyDeps,
  job: CopyJob,
  options: { attempts: number; time: CopyTime; limits: ArchiveLimits },
): Promise<{ files: number; bytes: number }> {
  const deadline = new AbortController();
  const seconds = Math.round(options.time.ms / 1000);
  const timer = setTimeout(() => deadline.abort(new CopyDeadlineError(job.label, seconds, options.time.functionTime)), options.time.ms);
  try {
    for (let attempt = 1; ; attempt++) {
      const writes = new MemberWrites(deps.dest, (files, bytes) => {
        deps.progress('exported-files', files);
        deps.progress('exported-bytes', bytes);
      });
      try {
        return await copyOnce(deps, job, writes, deadline.signal, options.limits);
      } catch (err) {
        const cause: unknown = deadline.signal.aborted ? deadline.signal.reason : err;
        const notRemoved = await writes.rollback();
        if (notRemoved && cause instanceof Error) cause.message += `; ${notRemoved}`;
        const final = cause instanceof FinalCopyError || (cause instanceof RemoteError && !cause.retryable);
        if (final || attempt >= options.attempts) throw cause;
        deps.log.warn('result file copy retried', { file: job.label, attempt, error: errorMessage(cause) });
        await pause(retryDelayMs({ ...DEFAULT_RETRY_POLICY, baseDelayMs: 200 }, attempt), deadline.signal);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

async function copyOnce(deps: CopyDeps, job: CopyJob, writes: MemberWrites, signal: AbortSignal, limits: ArchiveLimits) {
  const download = await untilAborted(deps.target.openOutput(job.locator, job.label), signal);
  // Past the deadline the download is cut: the writes reading it fail, and what they wrote is removed.
  const cut = () => download.body.destroy(signal.reason as Error);
  if (signal.aborted) cut();
  signal.addEventListener('abort', cut, { once: true });
  try {
    if (isArchive(job.fileName) && !job.keepArchive) {
      await unpackArchive(job.fileName, download.body, (member) => writes.add(`${job.folder}${member.path}`, member.stream, member.size), limits);
    } else {
      await writes.add(`${job.folder}${job.fileName}`, download.body, download.length);
    }
    return await writes.finish();
  } finally {
    signal.removeEventListener('abort', cut);
  }
}

/** The opened file, or the deadline's error once it passes first (a file opened too late is closed). */
function untilAborted(opening: Promise<OpenedOutput>, signal: AbortSignal): Promise<OpenedOutput> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    opening.then(
      (opened) => {
        signal.removeEventListener('abort', abort);
        if (signal.aborted) opened.body.destroy();
        else resolve(opened);
      },
      (err) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}

/** Waits `ms`, or rejects with the deadline's error if it passes first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}
