/**
 * Output batches written by job stages:
 * - `<jobId>-processing`: multipart batch, part `results`, aggregated JSONL or CSV (one file per task);
 * - `<jobId>-export`: multipart batch, items split across parts `results-1` and `results-2`, each part
 *   holding `.tar.gz` archives of up to 10 per-item `<item name>.json` files.
 */
import { chunk } from '../emulator-kit/concurrency';
import type { EmulatorContext } from './context';
import { buildTarGz, resultMemberName } from './export-archives';
import { toCsv, toJsonl, type ItemResult } from './predictions';
import type { Batch, BatchContentType, BatchPart, StagedFile } from './store';

export const PROCESSING_TASK_SIZE = 256;
export const EXPORT_PART_NAMES = ['results-1', 'results-2'] as const;
const ITEMS_PER_ARCHIVE = 10;

export function processingBatchId(jobId: string): string {
  return `${jobId}-processing`;
}

export function exportBatchId(jobId: string): string {
  return `${jobId}-export`;
}

export function writeProcessingOutput(ctx: EmulatorContext, jobId: string, results: ItemResult[], format: 'jsonl' | 'csv'): Batch {
  const batch = createOutputBatch(ctx, processingBatchId(jobId), 'metadata', [
    { partName: 'results', partType: 'simple-part', contentType: 'metadata', partDescription: `Aggregated workflow results (${format})` },
  ]);
  for (const [index, group] of chunk(results, PROCESSING_TASK_SIZE).entries()) {
    const text = format === 'csv' ? toCsv(group) : toJsonl(group);
    const mimeType = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    addFile(ctx, batch, `results-${pad(index + 1)}.${format}`, 'results', 'metadata', null, {
      kind: 'bytes',
      data: Buffer.from(text),
      mimeType,
    });
  }
  return batch;
}

export async function writeExportOutput(ctx: EmulatorContext, jobId: string, results: ItemResult[]): Promise<Batch> {
  const parts: BatchPart[] = EXPORT_PART_NAMES.map((partName) => ({
    partName,
    partType: 'simple-part',
    contentType: 'archives',
    nestedContentType: 'metadata',
    partDescription: 'tar.gz archives of per-item workflow results',
  }));
  const batch = createOutputBatch(ctx, exportBatchId(jobId), 'archives', parts);
  const half = Math.ceil(results.length / EXPORT_PART_NAMES.length);
  for (const [partIndex, partName] of EXPORT_PART_NAMES.entries()) {
    const partResults = results.slice(partIndex * half, (partIndex + 1) * half);
    for (const [index, group] of chunk(partResults, ITEMS_PER_ARCHIVE).entries()) {
      const archive = await buildTarGz(
        group.map((result) => ({ name: resultMemberName(result.name), content: JSON.stringify(result, null, 2) })),
      );
      addFile(ctx, batch, `${partName}-archive-${pad(index + 1)}.tar.gz`, partName, 'archive', 'metadata', {
        kind: 'bytes',
        data: archive,
        mimeType: 'application/gzip',
      });
    }
  }
  return batch;
}

/** A restarted job rewrites its output batches from scratch. */
function createOutputBatch(ctx: EmulatorContext, batchId: string, contentType: BatchContentType, parts: BatchPart[]): Batch {
  ctx.store.batches.delete(batchId);
  return ctx.store.createBatch({ batchId, displayName: batchId, batchType: 'multipart-batch', batchContentType: contentType, parts });
}

function addFile(
  ctx: EmulatorContext,
  batch: Batch,
  fileName: string,
  partName: string,
  contentType: string,
  nestedContentType: string | null,
  content: { kind: 'bytes'; data: Buffer; mimeType: string },
): void {
  const file: StagedFile = {
    fileName,
    partName,
    shardId: null,
    contentType,
    nestedContentType,
    size: content.data.length,
    contentId: ctx.store.putContent(content),
  };
  batch.files.push(file);
}

function pad(n: number): string {
  return String(n).padStart(4, '0');
}
