/**
 * Exact sizes of the tar archives the upload mode streams (as tar-stream writes them): a signed PUT
 * needs its Content-Length before the first byte, so an archive's size is computed from the names
 * and listed sizes of its members instead of by holding the archive.
 */

export const TAR_BLOCK = 512;
/** Two zero blocks end an archive. */
export const TAR_END_BYTES = 2 * TAR_BLOCK;
/** Longest name a plain ustar header holds; longer names get a pax `path` record first. */
const USTAR_NAME_BYTES = 100;

export interface TarMember {
  name: string;
  size: number;
}

export function padded(bytes: number): number {
  return Math.ceil(bytes / TAR_BLOCK) * TAR_BLOCK;
}

/** Bytes of a pax record ` path=<name>\n` with its own decimal length in front. */
function paxPathRecordBytes(name: string): number {
  const body = Buffer.byteLength(` path=${name}\n`);
  let digits = String(body).length;
  if (body + digits >= 10 ** digits) digits++;
  return body + digits;
}

/** Header bytes of one member: one ustar block, or a pax header block, its record and the ustar block. */
export function tarHeaderBytes(name: string): number {
  if (name.includes('/')) throw new Error(`tar member names are flat reference names, not paths: ${name}`);
  if (Buffer.byteLength(name) === name.length && name.length <= USTAR_NAME_BYTES) return TAR_BLOCK;
  return TAR_BLOCK + padded(paxPathRecordBytes(name)) + TAR_BLOCK;
}

export function tarMemberBytes(member: TarMember): number {
  return tarHeaderBytes(member.name) + padded(member.size);
}

/** Bytes of the whole archive: every member (header and padded data) and the end blocks. */
export function tarBytes(members: Iterable<TarMember>): number {
  let total = TAR_END_BYTES;
  for (const m of members) total += tarMemberBytes(m);
  return total;
}
