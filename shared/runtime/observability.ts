import type { Context } from 'aws-lambda';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '../log';
import { METRICS_NAMESPACE } from '../metrics/catalogue';
import { noMetrics, type Metrics } from '../metrics/port';
import { EmfMetrics } from './powertools-metrics';
import { powertoolsLogger } from './powertools-logger';
import { tracer } from './tracing';

/** What a handler knows of its invocation (tests pass only part of Lambda's context). */
export type InvocationContext = Partial<Pick<Context, 'awsRequestId' | 'functionName' | 'functionVersion' | 'invokedFunctionArn' | 'memoryLimitInMB'>>;

/** How a function's work is logged, counted and traced. */
export interface Observability {
  log: Logger;
  metrics: Metrics;
  /** One invocation: its request id and cold-start flag in every log line, a trace subsegment, metrics flushed at the end. */
  invocation<T>(context: InvocationContext | undefined, work: () => Promise<T>): Promise<T>;
  /** Work on one run: its id in every log line and on the trace. */
  forRun<T>(runId: string | undefined, work: () => Promise<T>): Promise<T>;
}

/** A logger and a metrics port, nothing around the invocation (tests, and the CLI's shape). */
export function plainObservability(log: Logger, metrics: Metrics = noMetrics): Observability {
  return { log, metrics, invocation: (_context, work) => work(), forRun: (_runId, work) => work() };
}

/**
 * The deployed functions' observability, from the function's environment: Powertools Logger
 * (level from `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL`; debug lines for a sampled share of
 * invocations, `POWERTOOLS_LOGGER_SAMPLE_RATE`), Metrics (namespace from the catalogue, the
 * `service` dimension from `POWERTOOLS_SERVICE_NAME`) and the container's Tracer.
 */
export function powertoolsObservability(env: NodeJS.ProcessEnv): Observability {
  const serviceName = env.POWERTOOLS_SERVICE_NAME || 'bucket-bridge';
  const sampleRate = Number(env.POWERTOOLS_LOGGER_SAMPLE_RATE);
  const logger = new PowertoolsLogger({
    serviceName,
    // Powertools checks the name; Lambda's own log level setting (AWS_LAMBDA_LOG_LEVEL) wins over it.
    logLevel: (env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL || undefined) as LogLevel | undefined,
    sampleRateValue: Number.isFinite(sampleRate) ? sampleRate : undefined,
  });
  const metrics = new EmfMetrics(new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName }));
  return {
    log: powertoolsLogger(logger),
    metrics,
    async invocation(context, work) {
      if (context) logger.addContext(context as Context);
      logger.refreshSampleRateCalculation();
      metrics.coldStart(context?.functionName);
      const segment = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
      const subsegment = segment?.addNewSubsegment(`## ${env._HANDLER ?? 'handler'}`);
      if (subsegment) tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      try {
        return await work();
      } catch (err) {
        tracer.addErrorAsMetadata(err as Error);
        throw err;
      } finally {
        subsegment?.close();
        if (segment) tracer.setSegment(segment);
        metrics.flush();
        logger.resetKeys();
      }
    },
    async forRun(runId, work) {
      if (!runId) return work();
      logger.appendKeys({ runId });
      tracer.putAnnotation('runId', runId);
      try {
        return await work();
      } finally {
        logger.removeKeys(['runId']);
      }
    },
  };
}

/** The run a queue message is about, when it names one. */
export function runIdOf(message: unknown): string | undefined {
  const runId = typeof message === 'object' && message !== null && 'runId' in message ? message.runId : undefined;
  return typeof runId === 'string' ? runId : undefined;
}
