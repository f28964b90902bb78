/**
 * The input batch an ingest or upload fills, created on first use. Roboflow's rule: a batch filled by bulk
 * ingest (references or tar uploads: a sharded batch) takes no single uploads, and one filled by single
 * uploads (a simple batch) takes no bulk ingest.
 */
import type { EmulatorContext } from './context';
import { badRequest } from './http-io';
import type { MediaKind } from './schemas';
import type { Batch } from './store';

export type InputBatchType = 'sharded-batch' | 'simple-batch';

export function inputBatchFor(ctx: EmulatorContext, batchId: string, displayName: string, batchType: InputBatchType, kind: MediaKind): Batch {
  const batch = ctx.store.batches.get(batchId);
  if (!batch) return ctx.store.createBatch({ batchId, displayName, batchType, batchContentType: kind });
  if (batch.batchType === 'multipart-batch') throw badRequest(`batch ${batchId} is a multipart-batch and cannot receive ingests`);
  if (batch.batchType !== batchType) {
    throw badRequest(
      batch.batchType === 'sharded-batch'
        ? `batch ${batchId} was filled by bulk ingest; single uploads cannot be added to it`
        : `batch ${batchId} was filled by single uploads; bulk ingest cannot be added to it`,
    );
  }
  if (batch.batchContentType !== kind) throw badRequest(`batch ${batchId} holds ${batch.batchContentType}; cannot ingest ${kind} into it`);
  return batch;
}
