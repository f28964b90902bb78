import type { RunRecord } from '../state/run-record';
import type { ExportDeps } from './export';
import { OpenChunk } from './ingest';

/**
 * Signs the given inputs again and submits them as one more chunk of the run (inputs the target
 * could not fetch, e.g. because their URLs expired while its batch was queued). The run goes back
 * to processing until that chunk's batch is done too; each input is retried once.
 */
export async function resubmitInputs(deps: ExportDeps & { source: NonNullable<ExportDeps['source']> }, run: RunRecord, inputs: Array<{ key: string; name: string }>) {
  const index = run.chunks.reduce((max, c) => Math.max(max, c.index), -1) + 1;
  const chunk = new OpenChunk({ ...deps, source: deps.source }, run, index, { recordNames: false });
  await chunk.add(inputs.map(({ key }) => ({ key, size: 0 })));
  const submitted = await chunk.submit();
  const carriedBy = submitted.targetRef ?? submitted.ingestId;
  await deps.state.updateRun(run.runId, (r) => ({
    ...r,
    phase: 'processing',
    exportTasks: undefined,
    chunks: [...r.chunks.filter((c) => c.index !== index), submitted],
    resubmitted: { ...r.resubmitted, ...Object.fromEntries(inputs.map((i) => [i.name, carriedBy])) },
  }));
  deps.log.warn('inputs the target could not fetch were signed and submitted again', { runId: run.runId, inputs: inputs.length, chunk: index });
}
