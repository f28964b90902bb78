import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as exportFn from '../../functions/export/handler';
import { newRunRecord } from '../../shared/run/start-run';
import type { ExportMessage } from '../../shared/runtime/messages';
import type { FileFailure } from '../../shared/state/run-record';
import { startArchiveServer, type ArchiveServer } from '../support/archive-server';
import { specFor } from '../support/domain';
import { invocation, sqsEvent } from '../support/lambda-invocation';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

/**
 * The export function copying a file that never finishes (one byte every 100 ms), with a small time
 * budget: 4 s kept back to record outcomes (a loaded machine needs it), copies started only with at
 * least 0.5 s of work left.
 */
describe('export function within its time', () => {
  let h: ServerlessHarness;
  let server: ArchiveServer;
  let handler: ReturnType<typeof exportFn.createHandler>;

  beforeAll(async () => {
    h = await startServerlessHarness();
    server = await startArchiveServer();
    server.serve('/slow.jsonl', { kind: 'trickle', length: 100_000, everyMs: 100 });
    handler = exportFn.createHandler(() => h.main.runtimes.export, { reserveMs: 4000, minStartMs: 500 });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  const event = (message: ExportMessage) => sqsEvent(message, 'export');
  /** Runs one invocation; returns how long it took and the export messages it sent. */
  async function invoke(message: ExportMessage, ms: number) {
    const started = Date.now();
    const response = await handler(event(message), invocation(ms));
    return { response, seconds: (Date.now() - started) / 1000, sent: h.aws.take('export').map((m) => JSON.parse(m.body) as ExportMessage) };
  }

  async function exportingRun(runId: string) {
    const run = { ...newRunRecord(runId, specFor('s3://media/incoming/', 's3://results/out/')), phase: 'exporting' as const, jobStarted: true, submissionComplete: true, exportTasks: 1 };
    await h.main.runtime.state.createRun(run);
    const copy: ExportMessage = { kind: 'copy', runId, task: { taskId: 't1', part: 'p1', fileName: 'slow.jsonl', locator: { kind: 'url', url: `${server.base}/slow.jsonl?X-Amz-Signature=s` } } };
    return copy;
  }

  it('hands a copy the function has no time for on once, then records it as failed and ends the run before the time is up', async () => {
    const copy = await exportingRun('budget');

    // 6 s left, 4 s kept back: the copy is cut after 2 s and handed on to a fresh invocation.
    const first = await invoke(copy, 6000);
    expect(first.response.batchItemFailures).toEqual([]);
    expect(first.seconds).toBeLessThan(6);
    expect(first.sent).toEqual([{ ...copy, handedOn: true }]);
    expect((await h.main.runtime.state.getRun('budget'))!.phase).toBe('exporting');

    // Cut short again: recorded as failed, and the run ends with its summary.
    const second = await invoke(first.sent[0]!, 6000);
    expect(second.response.batchItemFailures).toEqual([]);
    expect(second.seconds).toBeLessThan(6);
    expect(second.sent).toEqual([]);
    const run = (await h.main.runtime.state.getRun('budget'))!;
    expect(run.phase).toBe('failed');
    const failures: FileFailure[] = [];
    for await (const f of h.main.runtime.state.failures('budget')) failures.push(f);
    expect(failures.map((f) => [f.name, f.reason])).toEqual([['p1/slow.jsonl', 'copy of p1/slow.jsonl did not finish within the 2 s the function had left']]);
    const summary = JSON.parse(await text(await h.stack.store('results').read('out/budget/summary.json')));
    expect(summary.status).toBe('failed');
    expect(await h.stack.store('results').sizeOf('out/budget/p1/slow.jsonl')).toBeUndefined();
  }, 20_000);

  it('hands a copy on untouched when the invocation has too little time left to start it', async () => {
    const copy = await exportingRun('late');
    const before = server.requests.get('/slow.jsonl') ?? 0;
    const late = await invoke(copy, 4300);
    expect(late.sent).toEqual([copy]);
    expect(server.requests.get('/slow.jsonl') ?? 0).toBe(before);
    expect((await h.main.runtime.state.getRun('late'))!.phase).toBe('exporting');
  }, 20_000);
});
