import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray tracing of the deployed functions (Powertools Tracer, one per container). It traces only
 * where the function runs in Lambda with tracing on (`POWERTOOLS_TRACE_ENABLED` not `false`):
 * anywhere else, tests included, it does nothing and needs no daemon. Outgoing HTTP(S) requests
 * are not captured: their URLs can be signed (bearer credentials) and must stay out of traces.
 */
export const tracer = new Tracer({ captureHTTPsRequests: false });

/** An AWS SDK v3 client whose calls appear as subsegments of the invocation's trace. */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}
