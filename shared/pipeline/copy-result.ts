import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
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

/** How far earlier invocations got with an archive: its first `members` members (`bytes` in all) are stored. */
export interface CopyResume {
  members: number;
  bytes: number;
}

/**
 * What a copy cut short by the function's time does: nothing (fail), hand on what it confirmed
 * (`always`, even nothing), or hand on only when it got further than where it started (`with-progress`).
 */
export type HandOn = 'never' | 'always' | 'with-progress';

export interface CopyOptions {
  attempts: number;
  time: CopyTime;
  limits: ArchiveLimits;
  /** Where earlier invocations stopped (archives only; their members are in a fixed order). */
  resume?: CopyResume;
  handOn?: HandOn;
}

/** How long a failed resumed copy may spend reading the archive again to name what earlier invocations stored. */
export const PRIOR_SCAN_MS = 30_000;

/**
 * Copies one result file into its folder (archives unpacked unless kept) within its time,
 * retrying transient failures only. Whatever makes it fail, every object it wrote is removed again
 * (before the next attempt, or with those of earlier invocations before the failure): the file is
 * in the bucket whole or not at all. Cut short by the function's time, it may instead keep the
 * members it confirmed and resolve with where the next invocation goes on from.
 */
export async function copyResultFile(deps: CopyDeps, job: CopyJob, options: CopyOptions): Promise<{ files: number; bytes: number } | { handOn: CopyResume }> {
  const resume = options.resume ?? { members: 0, bytes: 0 };
  const deadline = new AbortController();
  const seconds = Math.round(options.time.ms / 1000);
  const timer = setTimeout(() => deadline.abort(new CopyDeadlineError(job.label, seconds, options.time.functionTime)), options.time.ms);
  // The keys of the members earlier invocations stored, as the archive is read past them.
  const prior: string[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      const writes = new MemberWrites(deps.dest, (files, bytes) => {
        deps.progress('exported-files', files);
        deps.progress('exported-bytes', bytes);
      });
      try {
        const copied = await copyOnce(deps, job, writes, deadline.signal, options.limits, resume.members, prior);
        return { files: resume.members + copied.files, bytes: resume.bytes + copied.bytes };
      } catch (err) {
        const cause: unknown = deadline.signal.aborted ? deadline.signal.reason : err;
        const handOn = options.handOn ?? 'never';
        if (cause instanceof CopyDeadlineError && cause.functionTime && handOn !== 'never') {
          const kept = await writes.keepConfirmed();
          if (kept.notRemoved) deps.log.warn('result file copy handed on with objects left over', { file: job.label, note: kept.notRemoved });
          if (handOn === 'always' || kept.members > 0) return { handOn: { members: resume.members + kept.members, bytes: resume.bytes + kept.bytes } };
        }
        const final = cause instanceof FinalCopyError || (cause instanceof RemoteError && !cause.retryable) || attempt >= options.attempts;
        const earlier = final ? await priorKeys(deps, job, resume.members, prior) : { keys: [] };
        const notRemoved = [await writes.rollback(earlier.keys), earlier.note].filter(Boolean).join('; ');
        if (notRemoved && cause instanceof Error) cause.message += `; ${notRemoved}`;
        if (final) throw cause;
        deps.log.warn('result file copy retried', { file: job.label, attempt, error: errorMessage(cause) });
        await pause(retryDelayMs({ ...DEFAULT_RETRY_POLICY, baseDelayMs: 200 }, attempt), deadline.signal);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

async function copyOnce(deps: CopyDeps, job: CopyJob, writes: MemberWrites, signal: AbortSignal, limits: ArchiveLimits, skip: number, prior: string[]) {
  const download = await untilAborted(deps.target.openOutput(job.locator, job.label), signal);
  // Past the deadline the download is cut: the writes reading it fail, and what they wrote is removed.
  const cut = () => download.body.destroy(signal.reason as Error);
  if (signal.aborted) cut();
  signal.addEventListener('abort', cut, { once: true });
  try {
    if (isArchive(job.fileName) && !job.keepArchive) {
      let index = 0;
      await unpackArchive(
        job.fileName,
        download.body,
        async (member) => {
          const key = `${job.folder}${member.path}`;
          if (index < skip) {
            // Stored by an earlier invocation: read past it, unwritten.
            prior[index++] ??= key;
            return member.bytes ? undefined : drain(member.stream);
          }
          index++;
          await writes.add(key, member.bytes ?? member.stream, member.size);
        },
        limits,
      );
      if (index < skip) throw new FinalCopyError(`${job.label} has ${index} members now, fewer than the ${skip} an earlier invocation stored`);
    } else if (skip > 0) {
      throw new FinalCopyError(`${job.label} is not unpacked: it cannot go on from member ${skip}`);
    } else {
      await writes.add(`${job.folder}${job.fileName}`, download.body, download.length);
    }
    return await writes.finish();
  } finally {
    signal.removeEventListener('abort', cut);
  }
}

/**
 * The keys of the first `count` members (stored by earlier invocations): those seen while reading
 * past them, else the archive read again for its member names alone, within PRIOR_SCAN_MS.
 */
async function priorKeys(deps: CopyDeps, job: CopyJob, count: number, seen: string[]): Promise<{ keys: string[]; note?: string }> {
  if (count === 0 || seen.length >= count) return { keys: seen.slice(0, count) };
  const keys: string[] = [];
  const enough = new Error('enough');
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`no answer within ${PRIOR_SCAN_MS / 1000} s`)), PRIOR_SCAN_MS);
  try {
    const download = await untilAborted(deps.target.openOutput(job.locator, job.label), stop.signal);
    stop.signal.addEventListener('abort', () => download.body.destroy(stop.signal.reason as Error), { once: true });
    await unpackArchive(job.fileName, download.body, async (member) => {
      keys.push(`${job.folder}${member.path}`);
      if (keys.length >= count) throw enough;
      if (!member.bytes) await drain(member.stream);
    }).catch((err) => {
      if (err !== enough) throw err;
    });
  } catch (err) {
    const known = Math.max(keys.length, seen.length);
    return { keys: keys.length > seen.length ? keys : seen.slice(), note: `${count - known} object(s) an earlier invocation stored could not be named to remove (${errorMessage(err)})` };
  } finally {
    clearTimeout(timer);
  }
  return { keys };
}

/** Reads a member to its end, keeping nothing. */
async function drain(stream: Readable): Promise<void> {
  stream.resume();
  await finished(stream);
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
