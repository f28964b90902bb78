import { randomUUID } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceName } from '../../shared/pipeline/name';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { RunRecord } from '../../shared/state/run-record';
import { listObjects } from '../support/s3';
import { startServerlessHarness, WEBHOOK_TOKEN, type HarnessOptions, type ServerlessHarness } from '../support/serverless';
import { readChunks } from '../../shared/state/run-chunks';

/** Five documents (the last one fails at the target) and one object that is not a document. */
const DOCS = ['incoming/a/invoice 1.pdf', 'incoming/a/invoice+2.pdf', 'incoming/b/contract.docx', 'incoming/b/notes.txt', 'incoming/c/broken.pdf'];
const BROKEN = 'incoming/c/broken.pdf';
const PROCESSED = DOCS.filter((k) => k !== BROKEN);
const NOT_A_DOCUMENT = 'incoming/c/photo.raw';

/** One webhook delivery attempt as an emulator records it. */
interface Delivery {
  url: string;
  headers: Record<string, string>;
  rawBody: string;
  status: number | 'error';
}

/** What differs between the two document targets. */
interface TargetCase {
  target: 'extend' | 'llamacloud';
  emulator: HarnessOptions;
  /** Id prefix of the target's batches (one per chunk). */
  batchRef: RegExp;
  /** Extension of a result file. */
  ext: 'json' | 'md';
  /** The JSONL joining every result in the run folder, if the target writes one. */
  combined?: string;
  /** Checks one processed document's result file. */
  expectResult(key: string, body: string): void;
  /** How the failing input shows in failed.jsonl. */
  failure: Record<string, unknown>;
  deliveries(h: ServerlessHarness): Delivery[];
  /** Webhook events the target sends for a run of `documents` documents in `batches` batches. */
  events(documents: number, batches: number): number;
  /** The deliveries of batch outcomes (the events that move a run on). */
  isBatchEvent(d: Delivery): boolean;
  /** The same delivery with a changed event id (its signature no longer matches). */
  tamper(rawBody: string): string;
}

const CASES: TargetCase[] = [
  {
    target: 'extend',
    emulator: { extend: { runDelayMs: 10, faults: { failUrlsMatching: /broken/ } } },
    batchRef: /^bpr_/,
    ext: 'json',
    combined: 'results.jsonl',
    expectResult: (key, body) => expect(JSON.parse(body)).toMatchObject({ key, name: referenceName(key), status: 'PROCESSED', output: expect.anything() }),
    failure: { stage: 'export', type: 'FAILED_TO_PROCESS_FILE', name: `results/${referenceName(BROKEN)}.json` },
    deliveries: (h) => h.extend!.webhookDeliveries,
    // One per run (acknowledged, not used), one per batch.
    events: (documents, batches) => documents + batches,
    isBatchEvent: (d) => String(JSON.parse(d.rawBody).eventType).startsWith('batch_processor_run.'),
    tamper: (raw) => JSON.stringify({ ...JSON.parse(raw), eventId: `evt_${randomUUID()}` }),
  },
  {
    target: 'llamacloud',
    emulator: { llamacloud: { jobDelayMs: 10, faults: { failFilesNamed: /broken/ } } },
    batchRef: /^bat-/,
    ext: 'md',
    // Parse results are markdown of the uploaded text, which names its object key.
    expectResult: (key, body) => expect(body).toContain(`text of ${key}`),
    failure: { stage: 'export', type: 'export-failed', name: `results/${referenceName(BROKEN)}.md`, reason: expect.stringMatching(/parse job FAILED/) },
    deliveries: (h) => h.llamacloud!.webhookDeliveries,
    // The bridge subscribes to batch outcomes only.
    events: (_documents, batches) => batches,
    isBatchEvent: (d) => /^batch\./.test(eventOf(d.rawBody).event_type),
    tamper: (raw) => {
      const event = { ...eventOf(raw), event_id: randomUUID() };
      // Keep the emulator's encoding (a JSON string holding the event, by default).
      return typeof JSON.parse(raw) === 'string' ? JSON.stringify(JSON.stringify(event)) : JSON.stringify(event);
    },
  },
];

/** Waits (bounded) until `done` holds. */
async function until(done: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A LlamaCloud webhook body: the event object, or (default output format) a JSON string of it. */
function eventOf(rawBody: string): { event_id: string; event_type: string } {
  const json = JSON.parse(rawBody);
  return typeof json === 'string' ? JSON.parse(json) : json;
}

describe.each(CASES)('deployed loop with $target: schedule -> batches per chunk -> signed webhooks -> export', (c) => {
  let h: ServerlessHarness;
  const tick = new Date('2026-11-23T10:00:00Z');
  const runId = scheduledRunId('docs', tick);

  beforeAll(async () => {
    // Two documents per chunk: the run spans three batches, the last holding only the failing input.
    h = await startServerlessHarness({ target: c.target, config: { referencesPerFile: 2, listPageSize: 2 }, ...c.emulator });
    const media = h.stack.store('media');
    for (const key of DOCS) await media.write(key, `text of ${key}\f second page\n`);
    await media.write(NOT_A_DOCUMENT, 'not a document');
  });
  afterAll(() => h.close());

  const run = async (): Promise<RunRecord> => (await h.main.runtime.state.getRun(runId))!;
  const read = async (key: string) => text(await h.stack.store('results').read(key));
  const jsonl = async (key: string) => (await read(key)).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const quiet = async () => h.aws.pending().length === 0 && h.waiting.length === 0;
  const post = (headers: Record<string, string>, body: string) =>
    fetch(`${h.webhookUrl}webhooks/${WEBHOOK_TOKEN}`, { method: 'POST', headers, body }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('runs a scheduled tick through every function to one result per document in the destination', async () => {
    const result = await h.main.scheduledRun({ sourceId: 'docs', time: tick.toISOString(), id: 'evt-1' }, h.context());
    expect(result).toEqual({ runId, result: 'submitted' });
    await h.pump(async () => ['completed', 'failed'].includes((await run()).phase), 20_000);

    const done = await run();
    // One input cannot be processed: the others are exported and the run reports the one that failed.
    expect(done.phase, done.error).toBe('failed');
    expect(done.error).toBe('1 result file(s) could not be copied');
    expect(done).toMatchObject({ listed: 6, submitted: 5, skipped: { 'not-media': 1 }, jobState: 'success', exported: { files: 4 } });
    const chunks = await readChunks(h.main.runtime.state, runId);
    expect(chunks.map((ch) => ch.references)).toEqual([2, 2, 1]);
    expect(chunks.map((ch) => ch.targetRef)).toEqual([expect.stringMatching(c.batchRef), expect.stringMatching(c.batchRef), expect.stringMatching(c.batchRef)]);

    const folder = `out/${runId}/`;
    const results = (await listObjects(h.stack.store('results'), `${folder}results/`)).map((o) => o.key);
    expect(results.sort()).toEqual(PROCESSED.map((k) => `${folder}results/${referenceName(k)}.${c.ext}`).sort());
    for (const key of PROCESSED) c.expectResult(key, await read(`${folder}results/${referenceName(key)}.${c.ext}`));
    const all = (await listObjects(h.stack.store('results'), folder)).map((o) => o.key);
    const reports = ['summary.json', 'failed.jsonl', 'names.jsonl', 'report.html', 'results-by-key.jsonl', ...(c.combined ? [c.combined] : [])].map((f) => `${folder}${f}`);
    expect(all.sort()).toEqual([...results, ...reports].sort());
    if (c.combined) expect((await jsonl(`${folder}${c.combined}`)).map((r) => r.key).sort()).toEqual([...PROCESSED].sort());

    const failed = await jsonl(`${folder}failed.jsonl`);
    expect(failed).toEqual([expect.objectContaining(c.failure)]);
    // The deployed run's report names the failed result file with its reason, and the skipped object.
    const report = await read(`${folder}report.html`);
    expect(report).toContain(`data-key="${failed[0].key ?? failed[0].name}"`);
    expect(report).toContain(`data-count="failed.total" data-value="1"`);
    expect(report).toContain(`<code>${NOT_A_DOCUMENT}</code>`);
    expect(JSON.stringify(failed)).not.toMatch(/X-Amz-Signature/);
    expect((await jsonl(`${folder}names.jsonl`)).map((n) => n.key).sort()).toEqual([...DOCS].sort());
    const summary = JSON.parse(await read(`${folder}summary.json`));
    expect(summary).toMatchObject({
      runId,
      status: 'failed',
      media: 'documents',
      listed: 6,
      submitted: 5,
      failed: { total: 1, byStage: { export: 1 } },
      exported: { files: 4 },
      target: { name: c.target },
    });

    // Every event reached the webhook function through the front and was accepted at the first
    // attempt (the run can end before the last deliveries do: wait for them, bounded).
    await until(() => c.deliveries(h).length >= c.events(5, 3));
    await h.pump(quiet);
    const deliveries = c.deliveries(h);
    expect(deliveries).toHaveLength(c.events(5, 3));
    expect(deliveries.every((d) => d.url === `${h.webhookUrl}webhooks/${WEBHOOK_TOKEN}` && d.status === 200)).toBe(true);
    expect(deliveries.filter(c.isBatchEvent)).toHaveLength(3);
    // Start-job and export did the rest; no message failed or was dead-lettered.
    expect([...new Set(h.deliveries.map((d) => d.queue))].sort()).toEqual(['export', 'start-job']);
    expect(h.deliveries.filter((d) => d.queue === 'export' && (d.body as { kind: string }).kind === 'copy')).toHaveLength(5);
    expect(h.deliveries.filter((d) => d.failed)).toEqual([]);
    expect(h.deadLetters).toEqual([]);
  });

  it('answers a replayed webhook as a duplicate and changes nothing', async () => {
    await h.pump(quiet);
    const before = await run();
    const delivery = c.deliveries(h).find(c.isBatchEvent)!;
    const reply = await post(delivery.headers, delivery.rawBody);
    expect(reply).toEqual({ status: 200, body: { outcome: 'duplicate' } });
    expect(h.aws.pending()).toEqual([]);
    expect(await run()).toEqual(before);
  });

  it('refuses a webhook whose signature does not match (401) and changes nothing', async () => {
    await h.pump(quiet);
    const before = await run();
    const delivery = c.deliveries(h).find(c.isBatchEvent)!;
    const spoofed = c.tamper(delivery.rawBody);
    const reply = await post(delivery.headers, spoofed);
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ error: expect.stringMatching(/signature/i) });
    // Without any signature too.
    const bare = await post({ 'content-type': 'application/json' }, spoofed);
    expect(bare.status).toBe(401);
    expect(h.aws.pending()).toEqual([]);
    expect(await run()).toEqual(before);
    const eventId = c.target === 'extend' ? JSON.parse(spoofed).eventId : eventOf(spoofed).event_id;
    expect(await h.main.runtime.state.hasEvent(eventId)).toBe(false);
  });

  it('exports when every batch outcome arrived before the job start was handled', async () => {
    // SQS orders nothing across queues: here the export function takes the webhooks' plan
    // messages before the start-job function has moved the run to processing.
    const late = ['incoming/d/late 1.pdf', 'incoming/d/late 2.pdf', 'incoming/d/late 3.pdf'];
    for (const key of late) await h.stack.store('media').write(key, `text of ${key}\n`);
    const delivered = c.deliveries(h).length;
    const next = new Date(tick.getTime() + 3_600_000);
    const result = await h.main.scheduledRun({ sourceId: 'docs', time: next.toISOString() }, h.context());
    expect(result.result).toBe('submitted');
    // Every event of both batches is in: their plan messages wait in the export queue.
    await until(() => c.deliveries(h).length >= delivered + c.events(3, 2));
    expect(c.deliveries(h).slice(delivered).every((d) => d.status === 200)).toBe(true);
    const sent = h.aws.take();
    const [startJob, plans] = [sent.filter((m) => m.queue === 'start-job'), sent.filter((m) => m.queue !== 'start-job')];
    expect(startJob).toHaveLength(1);
    // (A batch that ended before the bridge linked its id is acknowledged as unknown: no plan for it.)
    expect(plans.length).toBeGreaterThanOrEqual(1);
    expect(plans.map((m) => [m.queue, JSON.parse(m.body).kind])).toEqual(plans.map(() => ['export', 'plan']));
    for (const m of [...plans, ...startJob]) await h.deliver({ ...m, receiveCount: 1 });

    await h.pump(async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(result.runId))!.phase), 10_000);
    const done = (await h.main.runtime.state.getRun(result.runId))!;
    expect(done.phase, done.error).toBe('completed');
    expect(done).toMatchObject({ submitted: 3, skipped: { 'already-submitted': 5, 'not-media': 1 }, exported: { files: 3 } });
    const results = await listObjects(h.stack.store('results'), `out/${result.runId}/results/`);
    expect(results.map((o) => o.key).sort()).toEqual(late.map((k) => `out/${result.runId}/results/${referenceName(k)}.${c.ext}`).sort());
    expect(h.deliveries.filter((d) => d.failed)).toEqual([]);
  });

  it('submits nothing on the next tick when no document is new', async () => {
    const deliveries = c.deliveries(h).length;
    const next = new Date(tick.getTime() + 2 * 3_600_000);
    const result = await h.main.scheduledRun({ sourceId: 'docs', time: next.toISOString() }, h.context());
    const empty = (await h.main.runtime.state.getRun(result.runId))!;
    expect(empty).toMatchObject({ phase: 'completed', submitted: 0, skipped: { 'already-submitted': 8, 'not-media': 1 } });
    expect(await readChunks(h.main.runtime.state, result.runId)).toEqual([]);
    await h.pump(quiet);
    expect(c.deliveries(h)).toHaveLength(deliveries);
  });
});
