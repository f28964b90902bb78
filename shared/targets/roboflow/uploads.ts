import { RemoteError } from '../../errors';
import type { RunRecord } from '../../state/run-record';
import type { UploadIntake, UploadSlot } from '../port';
import type { RoboflowClient } from './client';

/** Statuses Roboflow may answer a references ingest with when the plan takes no signed-URL ingest. */
const PLAN_REFUSAL_STATUSES = new Set([400, 402, 403]);
/** What such an answer says (the integration guide: signed-URL ingest is for Growth and Enterprise plans). */
const PLAN_REFUSAL_TEXT = /signed[ -]?urls?|growth|enterprise/i;

/**
 * Roboflow's upload endpoints for plans without signed-URL ingest: `bulk-upload/image-files` hands
 * out a signed PUT for one tar of images, `upload/video` one for one video (a batch filled one way
 * takes nothing the other way; a run only ever uses one of them, by its media).
 */
export class RoboflowUploads implements UploadIntake {
  constructor(private readonly client: RoboflowClient) {}

  async archiveSlot(run: RunRecord): Promise<UploadSlot> {
    const { signedURLDetails: d } = await this.client.requestImagesArchiveUpload(run.batchId);
    return slot(d, d.maxNumberOfImages, d.maxShardSize);
  }

  async fileSlot(run: RunRecord, name: string): Promise<UploadSlot> {
    const { signedURLDetails: d } = await this.client.requestVideoUpload(run.batchId, name);
    return slot(d, 1, d.maxFileSize);
  }

  referencesRefusal(err: unknown): string | undefined {
    if (!(err instanceof RemoteError) || err.status === undefined || !PLAN_REFUSAL_STATUSES.has(err.status)) return undefined;
    if (!PLAN_REFUSAL_TEXT.test(err.message)) return undefined;
    return `Roboflow refused signed-URL references for this workspace's plan (HTTP ${err.status})`;
  }
}

function slot(
  d: { uploadURL: string; method?: string | null; extensionHeaders?: Record<string, string> | null },
  maxMembers: number | null | undefined,
  maxBytes: number | null | undefined,
): UploadSlot {
  if (d.method && d.method.toUpperCase() !== 'PUT') throw new RemoteError(`Roboflow asked for a ${d.method} upload; only PUT is supported`);
  return {
    url: d.uploadURL,
    headers: d.extensionHeaders ?? {},
    maxMembers: positive(maxMembers),
    maxBytes: positive(maxBytes),
  };
}

const positive = (n: number | null | undefined) => (typeof n === 'number' && n > 0 ? n : undefined);
