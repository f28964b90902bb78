/**
 * Batch lifecycle: validation and creation of a batch and its runs, asynchronous processing of each run
 * (fetch the file, wait, produce a deterministic output), run cancellation, batch completion and the
 * webhooks both emit.
 */
import { createHash } from 'node:crypto';
import type { EmulatorContext } from './context';
import { invalidRequest, notFound } from './http-io';
import { newId } from './ids';
import type { ProcessorKind } from './kinds';
import { fileTypeOf, measure, outputFor } from './outputs';
import { download } from './remote-fetch';
import { parseBatchBody, type BatchRequest, type FileInput, type RunStatus } from './schemas';
import { touch, type BatchState, type BatchStatus, type FileRecord, type RunState } from './store';
import { batchView, runView } from './views';

const FETCH_TIMEOUT_MS = 15_000;
const MAX_FILE_BYTES = 100 * 1024 * 1024;
// Enough to count the pages of typical PDFs and the lines of text files.
const HEAD_BYTES = 1024 * 1024;
const TERMINAL: ReadonlySet<RunStatus> = new Set(['PROCESSED', 'FAILED', 'CANCELLED']);

export function submitBatch(ctx: EmulatorContext, kind: ProcessorKind, body: unknown): Record<string, unknown> {
  const request = parseBatchBody(kind, body, ctx.options.maxInputsPerBatch);
  const { processor, version } = resolveProcessor(ctx, kind, request);
  const created = Date.now();
  const createdAt = new Date(created).toISOString();
  const batch: BatchState = { id: newId('bpr'), kind, status: 'PENDING', runIds: [], endedRuns: 0, createdAt };
  const runs = request.inputs.map((input): RunState => ({
    seq: ctx.store.takeSeq(),
    id: newId(kind.runIdPrefix),
    kind,
    batchId: batch.id,
    processor,
    version,
    input: input.file,
    status: 'PENDING',
    failureReason: null,
    failureMessage: null,
    metadata: input.metadata,
    file: null,
    output: null,
    createdAt,
    createdMs: created,
    updatedAt: createdAt,
    updatedMs: created,
  }));
  for (const run of runs) {
    ctx.store.runs.set(run.id, run);
    batch.runIds.push(run.id);
  }
  ctx.store.batches.set(batch.id, batch);
  // The response is rendered before any run can start.
  const view = batchView(batch);
  for (const run of runs) ctx.scope.run(() => processRun(ctx, batch, run), (err) => ctx.reportError(err));
  return view;
}

function resolveProcessor(ctx: EmulatorContext, kind: ProcessorKind, request: BatchRequest) {
  const processor = ctx.options.processors.find((p) => p.id === request.processorId && p.type === kind.type);
  if (!processor) throw notFound(`${kind.processorField} ${request.processorId} not found`);
  const wanted = request.version ?? 'latest';
  if (wanted === 'latest') return { processor, version: processor.versions.at(-1) ?? 'draft' };
  if (wanted === 'draft' || processor.versions.includes(wanted)) return { processor, version: wanted };
  throw notFound(`version ${wanted} of ${kind.processorField} ${processor.id} not found`);
}

export function getBatch(ctx: EmulatorContext, id: string): BatchState {
  const batch = ctx.store.batches.get(id);
  if (!batch) throw notFound(`batch run ${id} not found`);
  return batch;
}

export function getRun(ctx: EmulatorContext, kind: ProcessorKind, id: string): RunState {
  const run = ctx.store.runs.get(id);
  if (!run || run.kind !== kind) throw notFound(`${kind.runObject} ${id} not found`);
  return run;
}

/** Cancels a PROCESSING run (Extend allows nothing else) and returns the full run. */
export function cancelRun(ctx: EmulatorContext, kind: ProcessorKind, id: string): Record<string, unknown> {
  const run = getRun(ctx, kind, id);
  if (run.status !== 'PROCESSING') throw invalidRequest(`${kind.runObject} ${id} is ${run.status}; only PROCESSING runs can be cancelled`);
  ctx.store.inFlight.get(run.id)?.abort();
  endRun(ctx, run, { status: 'CANCELLED' });
  return runView(run, ctx.views);
}

async function processRun(ctx: EmulatorContext, batch: BatchState, run: RunState): Promise<void> {
  await ctx.runSlots.use(async () => {
    if (run.status !== 'PENDING') return;
    run.status = 'PROCESSING';
    touch(run);
    if (batch.status === 'PENDING') batch.status = 'PROCESSING';

    const cancel = new AbortController();
    ctx.store.inFlight.set(run.id, cancel);
    let obtained: { file: FileRecord } | { failure: string };
    try {
      obtained = await obtainFile(ctx, run.input, AbortSignal.any([ctx.scope.signal, cancel.signal]));
    } finally {
      ctx.store.inFlight.delete(run.id);
    }
    if (run.status !== 'PROCESSING') return; // cancelled meanwhile
    if ('failure' in obtained) {
      endRun(ctx, run, { status: 'FAILED', failureReason: 'FAILED_TO_PROCESS_FILE', failureMessage: obtained.failure });
      return;
    }
    run.file = obtained.file;
    touch(run);
    await ctx.scope.sleep(ctx.options.runDelayMs);
    if (run.status !== 'PROCESSING') return;
    if (run.input.kind === 'url' && ctx.faults.failsUrl(run.input.url)) {
      endRun(ctx, run, {
        status: 'FAILED',
        failureReason: 'FAILED_TO_PROCESS_FILE',
        failureMessage: ctx.faults.current.failureMessage?.(run.input.url) ?? 'The file could not be processed (emulated failure)',
      });
      return;
    }
    endRun(ctx, run, { status: 'PROCESSED', output: outputFor(run.kind, obtained.file) });
  });
}

async function obtainFile(ctx: EmulatorContext, input: FileInput, signal: AbortSignal): Promise<{ file: FileRecord } | { failure: string }> {
  if (input.kind === 'id') {
    const file = ctx.store.files.get(input.id);
    return file ? { file } : { failure: `File ${input.id} not found` };
  }
  if (input.kind === 'text') {
    const bytes = Buffer.from(input.text, 'utf8');
    return { file: registerFile(ctx, input.name ?? 'input.txt', 'text/plain', bytes.length, sha256(bytes), bytes) };
  }
  const fetched = await download(input.url, { closeSignal: signal, timeoutMs: FETCH_TIMEOUT_MS, maxBytes: MAX_FILE_BYTES, headBytes: HEAD_BYTES });
  if (!fetched.ok) return { failure: fetched.message };
  ctx.fetched.count += 1;
  return { file: registerFile(ctx, input.name ?? nameFromUrl(input.url), fetched.mimeType, fetched.size, fetched.sha256, fetched.head) };
}

function registerFile(ctx: EmulatorContext, name: string, mimeType: string, size: number, sha: string, head: Buffer): FileRecord {
  const type = fileTypeOf(name, mimeType);
  const file: FileRecord = { id: newId('file'), name, type, size, sha256: sha, mimeType, ...measure(type, head, size), createdAt: new Date().toISOString() };
  ctx.store.files.set(file.id, file);
  return file;
}

/** Last path segment of the URL; the query (which may hold a signature) is never used. */
function nameFromUrl(url: string): string {
  const segment = new URL(url).pathname.split('/').filter(Boolean).at(-1);
  if (!segment) return 'file';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

type RunEnd = Pick<RunState, 'status'> & Partial<Pick<RunState, 'failureReason' | 'failureMessage' | 'output'>>;

/** Moves a run to a terminal status once; sends its webhook and completes the batch after its last run. */
function endRun(ctx: EmulatorContext, run: RunState, end: RunEnd): void {
  if (TERMINAL.has(run.status)) return;
  Object.assign(run, end);
  touch(run);
  if (run.status !== 'CANCELLED') {
    ctx.webhooks.send(`${run.kind.runObject}.${run.status === 'PROCESSED' ? 'processed' : 'failed'}`, runView(run, ctx.views));
  }
  const batch = getBatch(ctx, run.batchId);
  batch.endedRuns += 1;
  if (batch.endedRuns === batch.runIds.length) finishBatch(ctx, batch);
}

/**
 * PROCESSED when at least one run was processed (other runs may have failed: list them), FAILED when
 * every run failed or was cancelled with at least one failure, CANCELLED when every run was cancelled.
 */
function finishBatch(ctx: EmulatorContext, batch: BatchState): void {
  const statuses = new Set(batch.runIds.map((id) => ctx.store.runs.get(id)!.status));
  const final: BatchStatus = statuses.has('PROCESSED') ? 'PROCESSED' : statuses.has('FAILED') ? 'FAILED' : 'CANCELLED';
  batch.status = final;
  if (final === 'PROCESSED') ctx.webhooks.send('batch_processor_run.processed', batchView(batch));
  if (final === 'FAILED') ctx.webhooks.send('batch_processor_run.failed', batchView(batch));
}
