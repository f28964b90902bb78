import { z } from 'zod';

/** How often a CLI process driving a run says it is still there. */
export const HEARTBEAT_INTERVAL_MS = 15_000;
/** A heartbeat older than this means nobody drives the run (even if a process has the same pid). */
export const HEARTBEAT_STALE_MS = 120_000;

/** How a bucket was reached (S3 only): what `resume` needs to reach it alike. Never a secret. */
const LocationAccess = z.object({ region: z.string().optional(), requesterPays: z.boolean().optional() });

/**
 * The local settings a run was started with that its record does not keep: paging, and how the
 * buckets were reached (GCS credentials by where they are, never their content).
 */
export const LocalRunSettings = z.object({
  pageSize: z.number().int().positive().optional(),
  chunkSize: z.number().int().positive().optional(),
  /** `--allow-http-references` was given. */
  allowHttpReferences: z.boolean().optional(),
  storage: z
    .object({
      source: LocationAccess.default({}),
      dest: LocationAccess.default({}),
      gcs: z.object({ keyFile: z.string().optional(), signAs: z.string().optional(), userProject: z.string().optional() }).default({}),
    })
    .optional(),
});
export type LocalRunSettings = z.infer<typeof LocalRunSettings>;

/**
 * The CLI process that drives a run from a state folder: written when it takes the run on,
 * refreshed by a heartbeat, and closed when the process ends (with the reason when it failed).
 * A process killed outright closes nothing: its pid is gone and its heartbeat stops.
 */
export const RunOwner = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  command: z.enum(['run', 'resume']),
  startedAt: z.string(),
  heartbeatAt: z.string(),
  endedAt: z.string().optional(),
  /** Why the process ended without finishing the run. */
  failure: z.string().optional(),
  settings: LocalRunSettings.default({}),
});
export type RunOwner = z.infer<typeof RunOwner>;

export type OwnerState =
  | { state: 'running' }
  | { state: 'ended'; reason?: string; at: string }
  | { state: 'gone'; reason: string; at: string };

export interface OwnerProbe {
  now: number;
  host: string;
  /** Whether a process with this pid exists on this host. */
  isAlive(pid: number): boolean;
}

/**
 * Whether the run's owner still drives it. On its own host a dead pid settles it at once; on
 * another host (a shared state folder) only the heartbeat can tell.
 */
export function ownerState(owner: RunOwner, probe: OwnerProbe): OwnerState {
  if (owner.endedAt) return { state: 'ended', reason: owner.failure, at: owner.endedAt };
  const beat = Date.parse(owner.heartbeatAt);
  if (owner.host === probe.host && !probe.isAlive(owner.pid)) {
    return { state: 'gone', reason: `the ${owner.command} process (pid ${owner.pid}) ended without finishing it (killed?)`, at: owner.heartbeatAt };
  }
  if (!(probe.now - beat <= HEARTBEAT_STALE_MS)) {
    const seconds = Math.round((probe.now - beat) / 1000);
    return { state: 'gone', reason: `the ${owner.command} process (pid ${owner.pid} on ${owner.host}) last reported ${seconds} s ago`, at: owner.heartbeatAt };
  }
  return { state: 'running' };
}
