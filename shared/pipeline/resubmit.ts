import type { RunRecord } from '../state/run-record';
import type { ExportDeps } from './export';
import { OpenChunk } from './ingest';

export interface RetryInput {
  key: string;
  name: string;
}

/**
 * Signs the given inputs again and submits them as extra chunks of the run (inputs the target
 * could not fetch, e.g. because their URLs expired while its batch was queued), at most the
 * target's chunk size each. The run goes back to processing until those chunks are done too;
 * each input is retried once (failures in a retry chunk are final).
 *
 * The split is deterministic (inputs sorted by name, chunk indices after the run's own chunks), so
 * a pass cut off half-way is finished by the next one: chunks already handed on are not sent again.
 */
export async function resubmitInputs(deps: ExportDeps & { source: NonNullable<ExportDeps['source']> }, run: RunRecord, inputs: RetryInput[]) {
  const limit = deps.target.maxPerChunk(run.spec.media);
  const size = Math.min(deps.chunkSize ?? limit, limit);
  const sorted = [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const base = run.chunks.filter((c) => !c.retry).reduce((max, c) => Math.max(max, c.index), -1) + 1;
  let sent = 0;
  for (let start = 0, index = base; start < sorted.length; start += size, index++) {
    if (run.chunks.some((c) => c.index === index && c.retry && c.status !== 'written')) continue;
    const chunk = new OpenChunk({ ...deps, source: deps.source }, run, index, { recordNames: false, retry: true });
    await chunk.add(sorted.slice(start, start + size).map(({ key }) => ({ key, size: 0 })));
    const submitted = await chunk.submit();
    await deps.state.updateRun(run.runId, (r) => ({ ...r, chunks: [...r.chunks.filter((c) => c.index !== index), submitted].sort((a, b) => a.index - b.index) }));
    sent++;
  }
  await deps.state.updateRun(run.runId, (r) => ({ ...r, phase: 'processing', exportTasks: undefined, retried: true }));
  deps.log.warn('inputs the target could not fetch were signed and submitted again', { runId: run.runId, inputs: inputs.length, chunks: sent });
}
