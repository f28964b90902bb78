/**
 * The plan switch: Roboflow lets only Growth and Enterprise workspaces ingest through signed URLs
 * (references). How it refuses the others is not documented, so the answer's status and text are settable.
 */
import type { EmulatorContext } from './context';
import { HttpError } from './http-io';

export const SIGNED_URL_INGEST_REFUSAL = {
  status: 403,
  error: 'Only Growth Plan customers and Enterprise customers can ingest data through signed URLs.',
} as const;

/** Throws the plan's refusal when the `signedUrlIngestRefused` fault is on. */
export function assertPlanAllowsSignedUrlIngest(ctx: EmulatorContext): void {
  const refusal = ctx.faults.current.signedUrlIngestRefused;
  if (!refusal) return;
  const { status, error } = { ...SIGNED_URL_INGEST_REFUSAL, ...(refusal === true ? {} : refusal) };
  throw new HttpError(status, error);
}
