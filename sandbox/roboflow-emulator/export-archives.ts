/** Builds in-memory .tar.gz archives (tar-stream + gzip) of per-item result JSON files. */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import tar from 'tar-stream';

const gzipAsync = promisify(gzip);

export interface ArchiveMember {
  name: string;
  content: string | Buffer;
}

export async function buildTarGz(members: readonly ArchiveMember[]): Promise<Buffer> {
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const piece of pack) chunks.push(Buffer.from(piece as Uint8Array));
    return Buffer.concat(chunks);
  })();
  const mtime = new Date();
  for (const member of members) {
    const content = typeof member.content === 'string' ? Buffer.from(member.content) : member.content;
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name: member.name, size: content.length, mode: 0o644, mtime }, content, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  return gzipAsync(await collected);
}

/** Member path for an item's result: relative, no `..` or empty segments. */
export function resultMemberName(itemName: string): string {
  const safe = itemName
    .split(/[\\/]+/)
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .join('/');
  return `${safe || 'item'}.json`;
}
