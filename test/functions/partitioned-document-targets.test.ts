import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceName } from '../../shared/pipeline/name';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { readChunks } from '../../shared/state/run-chunks';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

/** Documents in three folders, and one object that is not a document. */
const DOCS = ['incoming/a/invoice 1.pdf', 'incoming/a/invoice+2.pdf', 'incoming/b/contract.docx', 'incoming/b/notes.txt', 'incoming/c/terms.pdf'];

describe.each(['extend', 'llamacloud'] as const)('deployed parallel discovery with a batch per chunk (%s)', (target) => {
  let h: ServerlessHarness;
  const tick = new Date('2026-12-02T08:00:00Z');
  const runId = scheduledRunId('docs', tick);

  beforeAll(async () => {
    h = await startServerlessHarness({ target, config: { referencesPerFile: 1, listPageSize: 2, discovery: { partitions: 2, sweepSeconds: 1 } } });
    const media = h.stack.store('media');
    for (const key of DOCS) await media.write(key, `text of ${key}\f second page\n`);
    await media.write('incoming/c/photo.raw', 'not a document');
  }, 60_000);
  afterAll(() => h?.close());

  it('submits every document once from its partition, each chunk a batch, and finishes the run after the join', async () => {
    const result = await h.main.scheduledRun({ sourceId: 'docs', time: tick.toISOString() }, h.context());
    expect(result).toEqual({ runId, result: 'partitioned' });
    await h.pump(async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(runId))?.phase ?? ''), 30_000);
    const done = (await h.main.runtime.state.getRun(runId))!;
    expect(done.phase, done.error).toBe('completed');
    expect(done).toMatchObject({ listed: 6, submitted: 5, skipped: { 'not-media': 1 }, exported: { files: 5 } });
    expect(done.partitions!.total).toBeGreaterThanOrEqual(2);
    const chunks = await readChunks(h.main.runtime.state, runId);
    expect(chunks).toHaveLength(DOCS.length);
    expect(new Set(chunks.map((c) => c.targetRef)).size).toBe(DOCS.length);
    const names: string[] = [];
    for await (const { name } of h.main.runtime.state.names(runId)) names.push(name);
    expect(names.sort()).toEqual(DOCS.map(referenceName).sort());
    expect(h.deadLetters).toEqual([]);
  });
});
