import type { StartJobMessage } from '../runtime/messages';
import type { ServerlessPorts } from './serverless-ports';

/** Every notification is in but the API says ingest goes on: the run is looked at again this much later. */
export const INGEST_RECHECK_DELAY_SECONDS = 60;
/**
 * Looks in a row that find the ingest underway (every chunk showing a shard) without the staged
 * count moving before ingest is taken as ended (as when polling): shard status values are not
 * published, so a shard that never reports finished holds no run forever. While a chunk shows no
 * shard, the looks go on until the count has not moved for NO_SHARD_QUIET_MS
 * (shared/pipeline/shard-evidence.ts).
 */
export const INGEST_RECHECK_SETTLE = 10;

type Recheck = NonNullable<StartJobMessage['recheck']>;

/**
 * Queues a later look at a run whose notifications all came in while the API says ingest goes on
 * (a notification came early, or the API lags behind it): no further notification may come. One
 * chain of looks per run: a notification's check leaves a chain that is still due alone.
 */
export async function scheduleIngestRecheck(
  ports: ServerlessPorts,
  runId: string,
  previous: Recheck | undefined,
  { count, underway }: { count?: number; underway?: boolean },
): Promise<void> {
  const now = Date.now();
  let chained = false;
  await ports.state.updateRun(runId, (r) => {
    chained = false;
    if (r.phase !== 'ingesting') return r;
    if (!previous && r.ingestRecheckAt && Date.parse(r.ingestRecheckAt) > now) return r;
    chained = true;
    // Due by then: a chain whose message was lost lets the next notification start another.
    return { ...r, ingestRecheckAt: new Date(now + 2 * INGEST_RECHECK_DELAY_SECONDS * 1000).toISOString() };
  });
  if (!chained) return;
  const same = previous !== undefined && previous.lastCount === count;
  const next: Recheck = { lastCount: count, unchanged: same ? previous.unchanged + 1 : 0, settling: same && underway ? previous.settling + 1 : 0 };
  await ports.queues.startJob.send([{ kind: 'advance', runId, recheck: next }], { delaySeconds: INGEST_RECHECK_DELAY_SECONDS });
}
