import { tarBytes, tarMemberBytes, TAR_END_BYTES, type TarMember } from './tar-size';

/** Most members and bytes one archive may have (the target's answer, or the bridge's own caps). */
export interface ArchiveLimits {
  maxMembers: number;
  maxBytes: number;
}

export interface PlannedMember extends TarMember {
  key: string;
}

export interface PlannedArchive {
  /** Position in the chunk: the same listing and limits give the same archives at the same indices. */
  index: number;
  members: PlannedMember[];
  /** Exact size of the tar stream (Content-Length of its PUT). */
  bytes: number;
}

export interface ArchivePlan {
  archives: PlannedArchive[];
  /** Objects whose tar entry alone is over `maxBytes`: never sent, recorded as failed. */
  tooLarge: PlannedMember[];
}

/**
 * Packs a chunk's objects, in listing order, into consecutive archives: a new archive starts when
 * the next member would pass either limit. Boundaries depend only on the ordered members and the
 * limits, so a retried or resumed chunk re-sends exactly the same archives.
 */
export function planArchives(members: readonly PlannedMember[], limits: ArchiveLimits): ArchivePlan {
  if (limits.maxMembers < 1) throw new Error('an archive must hold at least one member');
  const archives: PlannedArchive[] = [];
  const tooLarge: PlannedMember[] = [];
  let current: PlannedMember[] = [];
  let bytes = TAR_END_BYTES;
  const close = () => {
    if (current.length === 0) return;
    archives.push({ index: archives.length, members: current, bytes });
    current = [];
    bytes = TAR_END_BYTES;
  };
  for (const member of members) {
    const size = tarMemberBytes(member);
    if (TAR_END_BYTES + size > limits.maxBytes) {
      tooLarge.push(member);
      continue;
    }
    if (current.length >= limits.maxMembers || bytes + size > limits.maxBytes) close();
    current.push(member);
    bytes += size;
  }
  close();
  for (const a of archives) if (a.bytes !== tarBytes(a.members)) throw new Error('archive size accounting is off');
  return { archives, tooLarge };
}
