/**
 * The plan switch: Roboflow lets only Growth and Enterprise workspaces ingest through signed URLs
 * (references). How it refuses the others is not documented, so the answer is settable: the status and
 * `error` text of a refused request (default), or an accepted request whose ingest then fails as a whole.
 */
import type { EmulatorContext } from './context';
import { HttpError } from './http-io';

export const SIGNED_URL_INGEST_REFUSAL = {
  status: 403,
  error: 'Only Growth Plan customers and Enterprise customers can ingest data through signed URLs.',
  /** The whole-ingest error type of the `during: 'ingest'` shape (the emulator's name; Roboflow publishes none). */
  ingestErrorType: 'signed-url-ingest-not-allowed',
} as const;

export interface IngestRefusal {
  type: string;
  reason: string;
}

/**
 * Throws the plan's refusal of a references ingest request; returns the failure its ingest must end
 * with when the refusal comes during the ingest; undefined when the plan allows signed-URL ingest.
 */
export function applyPlanToReferencesIngest(ctx: EmulatorContext): IngestRefusal | undefined {
  const refusal = ctx.faults.current.signedUrlIngestRefused;
  if (!refusal) return undefined;
  const shape = refusal === true ? {} : refusal;
  const error = shape.error ?? SIGNED_URL_INGEST_REFUSAL.error;
  if (shape.during === 'ingest') return { type: SIGNED_URL_INGEST_REFUSAL.ingestErrorType, reason: error };
  throw new HttpError(shape.status ?? SIGNED_URL_INGEST_REFUSAL.status, error);
}
