/** The emulated endpoints: batch submission, batch status, run lists, single runs and run cancellation. */
import { route, type Route } from '../emulator-kit/router';
import type { EmulatorContext } from './context';
import { ALL_KINDS, type ProcessorKind } from './kinds';
import { pageOfRuns } from './pagination';
import { cancelRun, getBatch, getRun, submitBatch } from './processing';
import { parseListQuery } from './schemas';
import type { RunState } from './store';
import { batchView, runSummary, runView } from './views';

export function apiRoutes(ctx: EmulatorContext): Route[] {
  return [
    route('GET', '/batch_runs/:id', (req) => batchView(getBatch(ctx, req.params.id!))),
    ...ALL_KINDS.flatMap((kind) => runRoutes(ctx, kind)),
  ];
}

function runRoutes(ctx: EmulatorContext, kind: ProcessorKind): Route[] {
  const base = `/${kind.runsPath}`;
  return [
    // Before `${base}/:id` so that `batch` is not taken for a run id.
    route('POST', `${base}/batch`, (req) => submitBatch(ctx, kind, req.body)),
    route('GET', base, (req) => {
      const query = parseListQuery(kind, req.query);
      const matches = (run: RunState) =>
        run.kind === kind &&
        (query.batchId === undefined || run.batchId === query.batchId) &&
        (query.status === undefined || run.status === query.status) &&
        (query.processorId === undefined || run.processor.id === query.processorId) &&
        (query.fileNameContains === undefined ||
          (run.file?.name ?? '').toLowerCase().includes(query.fileNameContains.toLowerCase()));
      const page = pageOfRuns([...ctx.store.runs.values()].filter(matches), query, kind.runsPath, ctx.options.pageSize);
      return {
        object: 'list',
        data: page.runs.map((run) => runSummary(run, ctx.views)),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    }),
    route('GET', `${base}/:id`, (req) => runView(getRun(ctx, kind, req.params.id!), ctx.views)),
    route('POST', `${base}/:id/cancel`, (req) => cancelRun(ctx, kind, req.params.id!)),
  ];
}
