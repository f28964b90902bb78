import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { safeRelativePath } from './safe-path';

export const isArchive = (fileName: string) => /\.(tar|tar\.gz|tgz)$/i.test(fileName);

export interface ArchiveMember {
  path: string;
  size: number;
  stream: Readable;
}

export class UnsafeArchiveError extends Error {
  constructor(member: string) {
    super(`archive member ${JSON.stringify(member)} would land outside the run folder`);
    this.name = 'UnsafeArchiveError';
  }
}

/**
 * Streams the regular files of a .tar / .tar.gz archive to `onMember`, one at a time, without
 * buffering the archive. A member with an absolute or `..` path, or a link, rejects the archive
 * before that member is handed on.
 */
export async function unpackArchive(
  fileName: string,
  source: Readable,
  onMember: (member: ArchiveMember) => Promise<void>,
): Promise<number> {
  const tar = extract();
  const input = /\.tar$/i.test(fileName) ? source : source.pipe(createGunzip());
  source.on('error', (err) => tar.destroy(err));
  if (input !== source) input.on('error', (err) => tar.destroy(err));
  input.pipe(tar);

  let members = 0;
  try {
    for await (const entry of tar) {
      const header: Header = entry.header;
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      const path = safeRelativePath(header.name);
      if (!path || (header.type !== 'file' && header.type !== 'contiguous-file')) {
        entry.resume();
        throw new UnsafeArchiveError(header.name);
      }
      // tar-stream entries are streamx streams; hand on a Node stream.
      await onMember({ path, size: header.size ?? 0, stream: Readable.from(entry) });
      members++;
    }
  } finally {
    source.destroy();
  }
  return members;
}
