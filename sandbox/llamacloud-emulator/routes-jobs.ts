/** Per-file job endpoints: `GET /api/v2/parse/{job_id}` and `GET /api/v2/extract/{job_id}`. */
import type { EmulatorContext } from './context';
import { extractJobView, parseJobView } from './job-views';
import { expandList, route, type Route } from './router';

export function jobRoutes(ctx: EmulatorContext): Route[] {
  return [
    route('GET', '/api/v2/parse/:jobId', (req) => parseJobView(ctx, ctx.store.getJob(req.params.jobId!, 'parse_v2'), expandList(req.search))),
    route('GET', '/api/v2/extract/:jobId', (req) => extractJobView(ctx, ctx.store.getJob(req.params.jobId!, 'extract_v2'), expandList(req.search))),
  ];
}
