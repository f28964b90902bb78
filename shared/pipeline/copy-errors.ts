/**
 * A copy that would fail the same way if tried again: the file itself is at fault (unsafe, over a
 * limit, corrupt) or its time is up. It is recorded as failed at once, never retried.
 */
export class FinalCopyError extends Error {}

export class UnsafeArchiveError extends FinalCopyError {
  constructor(member: string) {
    super(`archive member ${JSON.stringify(member)} would land outside the run folder`);
    this.name = 'UnsafeArchiveError';
  }
}

/** Two members of one archive name the same object (`x/y.json`, `x/./y.json`, `x//y.json`). */
export class RepeatedMemberError extends FinalCopyError {
  constructor(member: string, path: string) {
    super(
      `archive member ${JSON.stringify(member)} names ${JSON.stringify(path)} more than once; ` +
        'nothing of the archive is kept (export it with --keep-archives to get it as it is)',
    );
    this.name = 'RepeatedMemberError';
  }
}

export class ArchiveLimitError extends FinalCopyError {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveLimitError';
  }
}

export class CorruptArchiveError extends FinalCopyError {
  constructor(fileName: string, cause: unknown) {
    super(`${fileName} is corrupt or truncated: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'CorruptArchiveError';
  }
}

/** A copy ran out of time: its own deadline, or the time the function had left. */
export class CopyDeadlineError extends FinalCopyError {
  constructor(
    label: string,
    readonly seconds: number,
    /** The function's time ran out (not the copy deadline): the copy may go on in a fresh invocation. */
    readonly functionTime: boolean,
  ) {
    super(
      functionTime
        ? `copy of ${label} did not finish within the ${seconds} s the function had left`
        : `copy of ${label} did not finish within ${seconds} s (the copy deadline)`,
    );
    this.name = 'CopyDeadlineError';
  }
}
