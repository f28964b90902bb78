/** Batch Processing endpoints (`/batch-processing/v1/external/{workspace}/jobs…`). */
import { route, type ApiRequest, type Route } from '../emulator-kit/router';
import type { EmulatorContext } from './context';
import { HttpError, notFound } from './http-io';
import { abortJob, jobView, restartJob, stageView, startJob } from './jobs';
import { paginate } from './pagination';
import { LogSeverity, checkJobId, parseOrBadRequest } from './schemas';

const BP = '/batch-processing/v1/external/:workspace';

export function jobRoutes(ctx: EmulatorContext): Route[] {
  const pageSize = ctx.options.pageSize;
  const jobOf = (req: ApiRequest) => ctx.store.getJob(checkJobId(req.params.jobId!));

  return [
    route('GET', `${BP}/jobs`, (req) => {
      const page = paginate([...ctx.store.jobs.values()], req.query, pageSize, 'jobs');
      return { jobs: page.items.map(jobView), nextPageToken: page.nextPageToken };
    }),
    route('POST', `${BP}/jobs/:jobId`, (req) => {
      startJob(ctx, checkJobId(req.params.jobId!), req.query.name, req.body);
      if (ctx.faults.takeLostJobStartAnswer()) throw new HttpError(504, 'gateway timeout (the job was started)');
      return { status: 'ok' };
    }),
    route('GET', `${BP}/jobs/:jobId`, (req) => ({ job: jobView(jobOf(req)) })),
    route('GET', `${BP}/jobs/:jobId/stages`, (req) => ({ stages: jobOf(req).stages.map(stageView) })),
    route('GET', `${BP}/jobs/:jobId/stages/:stageId/tasks`, (req) => {
      const job = jobOf(req);
      const stage = job.stages.find((s) => s.processingStageId === req.params.stageId);
      if (!stage) throw notFound(`stage ${req.params.stageId} not found in job ${job.jobId}`);
      const page = paginate(stage.tasks, req.query, pageSize, `tasks:${job.jobId}:${job.run}:${stage.processingStageId}`);
      return { tasks: page.items.map((t) => ({ ...t })), nextPageToken: page.nextPageToken };
    }),
    route('GET', `${BP}/jobs/:jobId/logs`, (req) => {
      const job = jobOf(req);
      const severity = req.query.severity ? parseOrBadRequest(LogSeverity, req.query.severity, 'severity') : undefined;
      const logs = severity ? job.logs.filter((entry) => entry.severity === severity) : job.logs;
      const page = paginate(logs, req.query, pageSize, `logs:${job.jobId}:${severity ?? ''}`);
      return { logs: page.items, nextPageToken: page.nextPageToken };
    }),
    route('POST', `${BP}/jobs/:jobId/abort`, (req) => abortJob(ctx, jobOf(req))),
    route('POST', `${BP}/jobs/:jobId/restart`, (req) => restartJob(ctx, jobOf(req), req.body)),
  ];
}
