/** Batch endpoints (`/api/v2/batches…`): create, list with filters, get (`expand=results`), cancel. */
import { batchView, cancelBatch, createBatch } from './batches';
import type { EmulatorContext } from './context';
import { badRequest, unprocessable } from './http-io';
import { paginate } from './pagination';
import { expandList, route, type Route } from './router';
import { BATCH_STATUSES } from './schemas';
import type { Batch } from './store';

const BATCHES = '/api/v2/batches';

export function batchRoutes(ctx: EmulatorContext): Route[] {
  return [
    route('POST', BATCHES, (req) => batchView(ctx, createBatch(ctx, req.body), false)),
    route('GET', BATCHES, (req) => {
      const { status, source_directory_id: directoryId } = req.query;
      if (status !== undefined && !(BATCH_STATUSES as readonly string[]).includes(status)) {
        throw badRequest(`status must be one of ${BATCH_STATUSES.join(', ')}`);
      }
      const after = dateQuery(req.query, 'created_at_on_or_after');
      const before = dateQuery(req.query, 'created_at_on_or_before');
      const matches = (b: Batch) => {
        const created = Date.parse(b.createdAt);
        return (
          (status === undefined || b.status === status) &&
          (directoryId === undefined || b.sourceDirectoryId === directoryId) &&
          (after === undefined || created >= after) &&
          (before === undefined || created <= before)
        );
      };
      const all = [...ctx.store.batches.values()].filter(matches);
      const scope = `batches:${status ?? ''}:${directoryId ?? ''}:${after ?? ''}:${before ?? ''}`;
      return paginate(all, req.query, ctx.options.pageSize, scope, (b) => batchView(ctx, b, false));
    }),
    route('GET', `${BATCHES}/:batchId`, (req) => {
      const expand = expandList(req.search);
      const unknown = [...expand].filter((e) => e !== 'results');
      if (unknown.length > 0) {
        throw unprocessable(unknown.map((e) => ({ type: 'enum', loc: ['query', 'expand'], msg: `unsupported expand value: ${e} (supported: results)` })));
      }
      return batchView(ctx, ctx.store.getBatch(req.params.batchId!), expand.has('results'));
    }),
    route('POST', `${BATCHES}/:batchId/cancel`, (req) => batchView(ctx, cancelBatch(ctx.store.getBatch(req.params.batchId!)), false)),
  ];
}

function dateQuery(query: Record<string, string>, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw badRequest(`${name} must be an ISO 8601 datetime`);
  return ms;
}
