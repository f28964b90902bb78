import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { ArchiveLimitError, CorruptArchiveError, RepeatedMemberError, UnsafeArchiveError } from './copy-errors';
import { byteCount, DEFAULT_EXPORT_LIMITS, RATIO_CHECK_AFTER_BYTES, type ExportLimits } from './export-limits';
import { safeRelativePath } from './safe-path';

export const isArchive = (fileName: string) => /\.(tar|tar\.gz|tgz)$/i.test(fileName);

/**
 * Members up to this size are read whole before they are handed on, as `bytes` (a stream per
 * member costs more than writing a small one): at most this many bytes are held before the
 * writer's budget takes them.
 */
export const INLINE_MEMBER_BYTES = 64 * 1024;

export interface ArchiveMember {
  path: string;
  size: number;
  /** The member's bytes, already read (members up to INLINE_MEMBER_BYTES). */
  bytes?: Buffer;
  /** The member's bytes as a stream (made from `bytes` when they are read already). */
  readonly stream: Readable;
}

export type ArchiveLimits = Pick<ExportLimits, 'maxUnpackedBytes' | 'maxMembers' | 'maxExpansionRatio'>;

/**
 * Streams the regular files of a .tar / .tar.gz archive to `onMember`, one at a time, without
 * buffering the archive. The archive is rejected, before the offending member is handed on, when a
 * member has an absolute or `..` path, is a link, names a path an earlier member named (aliases
 * such as `x/./y.json` included), or would take the archive over its limits; and, as soon as it
 * shows, when it expands more than allowed or is corrupt. Errors of the source (a dropped download)
 * are passed on as they are: those may be transient.
 */
export async function unpackArchive(
  fileName: string,
  source: Readable,
  onMember: (member: ArchiveMember) => Promise<void>,
  limits: ArchiveLimits = DEFAULT_EXPORT_LIMITS,
): Promise<number> {
  const tar = extract();
  const gunzip = /\.tar$/i.test(fileName) ? undefined : createGunzip();
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    tar.destroy(failure);
  };
  source.on('error', fail);
  tar.on('error', (err: Error) => fail(new CorruptArchiveError(fileName, err)));
  // A plain .tar does not expand: its members are read as they are.
  const watch = gunzip ? expansionWatch(fileName, source, limits.maxExpansionRatio, fail) : undefined;
  if (gunzip) {
    gunzip.on('error', (err) => fail(new CorruptArchiveError(fileName, err)));
    source.pipe(gunzip).pipe(tar);
  } else {
    source.pipe(tar);
  }

  const seen = new Set<string>();
  let entries = 0;
  let members = 0;
  let unpacked = 0;
  try {
    for await (const entry of tar) {
      const header: Header = entry.header;
      if (++entries > limits.maxMembers) throw new ArchiveLimitError(`${fileName} has more than ${limits.maxMembers} members`);
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      const path = safeRelativePath(header.name);
      if (!path || (header.type !== 'file' && header.type !== 'contiguous-file')) throw new UnsafeArchiveError(header.name);
      if (seen.has(path)) throw new RepeatedMemberError(header.name, path);
      seen.add(path);
      const size = header.size ?? 0;
      unpacked += size;
      if (unpacked > limits.maxUnpackedBytes) throw new ArchiveLimitError(`${fileName} unpacks to more than ${byteCount(limits.maxUnpackedBytes)}`);
      if (size <= INLINE_MEMBER_BYTES) {
        await onMember(inlineMember(path, size, await readWhole(entry, watch)));
      } else {
        // tar-stream entries are streamx streams; hand on a Node stream. Its error (the archive broke
        // under it) is this call's rejection too: left unheard, it must not end the process.
        const stream = Readable.from(watched(entry, watch)).on('error', () => undefined);
        await onMember({ path, size, stream });
      }
      members++;
    }
  } catch (err) {
    // A member's write fails when the archive breaks under it: the archive's failure is the cause.
    throw failure ?? err;
  } finally {
    source.destroy();
    gunzip?.destroy();
    tar.destroy();
  }
  if (failure) throw failure;
  return members;
}

/** Looks at each unpacked chunk; throws (having failed the archive) when it must stop. */
type ChunkWatch = (chunk: Buffer) => void;

/** A member read whole; its stream is made only if asked for. */
function inlineMember(path: string, size: number, bytes: Buffer): ArchiveMember {
  let stream: Readable | undefined;
  return {
    path,
    size,
    bytes,
    get stream() {
      return (stream ??= Readable.from([bytes]));
    },
  };
}

async function readWhole(entry: AsyncIterable<unknown>, watch: ChunkWatch | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry as AsyncIterable<Buffer>) {
    watch?.(chunk);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

async function* watched(entry: AsyncIterable<unknown>, watch: ChunkWatch | undefined) {
  for await (const chunk of entry as AsyncIterable<Buffer>) {
    watch?.(chunk);
    yield chunk;
  }
}

/**
 * Counts the compressed bytes read and the member bytes unpacked from them, and fails the archive
 * once the members outgrow `maxRatio` times what was read (never on the first RATIO_CHECK_AFTER_BYTES).
 * Member bytes, not tar bytes: the padding of many tiny members compresses to almost nothing.
 */
function expansionWatch(fileName: string, source: Readable, maxRatio: number, fail: (err: Error) => void): ChunkWatch {
  let compressed = 0;
  let unpacked = 0;
  source.on('data', (chunk: Buffer) => (compressed += chunk.length));
  return (chunk) => {
    unpacked += chunk.length;
    if (unpacked > RATIO_CHECK_AFTER_BYTES && unpacked > maxRatio * compressed) {
      const err = new ArchiveLimitError(`${fileName} expands more than ${maxRatio} times (a compression bomb?)`);
      fail(err);
      throw err;
    }
  };
}
