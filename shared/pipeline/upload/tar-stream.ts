import { once } from 'node:events';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { errorMessage } from '../../errors';
import type { ObjectStore } from '../../storage/port';
import type { PlannedMember } from './archive-plan';

/** Every member gets the same time stamp, so the same members always give the same bytes. */
const MEMBER_MTIME = new Date(0);

/** One member could not be streamed as listed: the archive carrying it is abandoned. */
export class MemberFailed extends Error {
  constructor(
    readonly key: string,
    readonly type: 'read-failed' | 'size-changed',
    reason: string,
  ) {
    super(`${key}: ${reason}`);
    this.name = 'MemberFailed';
  }
}

/**
 * Passes an object's bytes on and fails as soon as they differ from the listed size: a tar header
 * has already promised that size, so more or fewer bytes would corrupt the archive.
 */
export class ListedSize extends Transform {
  private seen = 0;

  constructor(
    private readonly key: string,
    private readonly size: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.seen += chunk.length;
    if (this.seen > this.size) return callback(this.changed('more than'));
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback) {
    callback(this.seen === this.size ? null : this.changed(`${this.seen} bytes, not`));
  }

  private changed(what: string) {
    return new MemberFailed(this.key, 'size-changed', `the object has ${what} the ${this.size} bytes listed (changed while the run read it?)`);
  }
}

/** Opens one object for streaming; a refusal or a missing object becomes a MemberFailed. */
export async function readMember(source: ObjectStore, member: PlannedMember): Promise<Readable> {
  try {
    return await source.read(member.key);
  } catch (err) {
    throw new MemberFailed(member.key, 'read-failed', errorMessage(err));
  }
}

/**
 * A tar archive of the members, read one after another from the source as the archive is consumed
 * (backpressure reaches the source reads): only stream buffers are held, never an object or the
 * archive. Its length is exactly `tarBytes(members)`. When a member fails, the stream is destroyed
 * with a MemberFailed naming it.
 */
export function tarStream(source: ObjectStore, members: readonly PlannedMember[]): Readable {
  const archive = tarPack();
  // tar-stream's streams are streamx streams: wrapped as a Node stream for the PUT.
  const out = Readable.from(archive, { objectMode: false });
  // The next object is opened while one streams (a GET's latency hidden behind the transfer), so
  // at most two responses per archive are open: one read, one waiting with its first bytes.
  const open = (i: number) => {
    const opened = i < members.length ? readMember(source, members[i]!) : undefined;
    opened?.catch(() => undefined);
    return opened;
  };
  let next = open(0);
  void (async () => {
    for (let i = 0; i < members.length; i++) {
      const body = await next!;
      next = open(i + 1);
      if (out.destroyed) {
        body.destroy();
        return void next?.then((b) => b.destroy(), () => undefined);
      }
      await addMember(archive, body, members[i]!);
    }
    archive.finalize();
  })().catch((err: unknown) => {
    void next?.then((body) => body.destroy(), () => undefined);
    out.destroy(err as Error);
  });
  return out;
}

/** Copies one object into its entry, waiting for the archive's reader (backpressure). */
async function addMember(archive: ReturnType<typeof tarPack>, body: Readable, member: PlannedMember): Promise<void> {
  const entry = archive.entry({ name: member.name, size: member.size, mtime: MEMBER_MTIME, mode: 0o644 });
  // An entry left open errors when the archive is torn down; the archive's own error is the one reported.
  entry.on('error', () => undefined);
  const checked = body.pipe(new ListedSize(member.key, member.size));
  body.on('error', (err) => checked.destroy(err));
  try {
    for await (const chunk of checked) {
      if (!entry.write(chunk)) await once(entry, 'drain');
    }
  } catch (err) {
    body.destroy();
    throw err instanceof MemberFailed ? err : new MemberFailed(member.key, 'read-failed', errorMessage(err));
  }
  await new Promise<void>((resolve, reject) => {
    entry.once('error', reject);
    entry.end(() => resolve());
  });
}
