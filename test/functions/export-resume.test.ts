import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as exportFn from '../../functions/export/handler';
import { newRunRecord } from '../../shared/run/start-run';
import type { ExportMessage } from '../../shared/runtime/messages';
import type { FileFailure } from '../../shared/state/run-record';
import { startArchiveServer, tarOf, type ArchiveServer, type TestMember } from '../support/archive-server';
import { specFor } from '../support/domain';
import { invocation, sqsEvent } from '../support/lambda-invocation';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

const MEMBERS = 40;
const BODY = 'x'.repeat(1000);
/** 40 members of 1,000 bytes, `m/item-00.json` … `m/item-39.json`, in that order. */
const members = (): TestMember[] => Array.from({ length: MEMBERS }, (_, i) => [`m/item-${String(i).padStart(2, '0')}.json`, BODY]);

/**
 * An archive copy the function's time cuts short half-way: the first download sends one member
 * (1.5 KiB of tar) every 100 ms, later ones send it all at once. Each invocation has 6 s, 4 s of
 * which are kept back: the first copies for 2 s, about half the archive.
 */
describe('export function going on with an archive from where the last invocation stopped', () => {
  let h: ServerlessHarness;
  let server: ArchiveServer;
  let handler: ReturnType<typeof exportFn.createHandler>;

  beforeAll(async () => {
    h = await startServerlessHarness({ s3Proxy: true });
    server = await startArchiveServer();
    handler = exportFn.createHandler(() => h.main.runtimes.export, { reserveMs: 4000, minStartMs: 500 });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  const event = (message: ExportMessage) => sqsEvent(message, 'export');
  async function invoke(message: ExportMessage) {
    const response = await handler(event(message), invocation(6000));
    expect(response.batchItemFailures).toEqual([]);
    return h.aws.take('export').map((m) => JSON.parse(m.body) as ExportMessage);
  }

  /** An exporting run with one archive to copy, served slowly the first time. */
  async function exportingRun(runId: string, archive: TestMember[]) {
    server.serve(`/${runId}.tar`, { kind: 'slow-first', body: await tarOf(archive), chunkBytes: 1536, everyMs: 100 });
    const run = { ...newRunRecord(runId, specFor('s3://media/incoming/', 's3://results/out/')), phase: 'exporting' as const, jobStarted: true, submissionComplete: true, exportTasks: 1 };
    await h.main.runtime.state.createRun(run);
    const copy: ExportMessage = { kind: 'copy', runId, task: { taskId: 't1', part: 'p1', fileName: `${runId}.tar`, locator: { kind: 'url', url: `${server.base}/${runId}.tar?X-Amz-Signature=s` } } };
    return copy;
  }

  async function storedKeys(runId: string) {
    const keys: string[] = [];
    for await (const page of h.stack.store('results').list(`out/${runId}/p1/`)) keys.push(...page.objects.map((o) => o.key));
    return keys.sort();
  }
  /** How many times each member was PUT, and which were removed, by key under the run folder. */
  function requestsFor(runId: string, method: string) {
    const counts = new Map<string, number>();
    const prefix = `/results/out/${runId}/p1/`;
    for (const r of h.proxy!.requests) {
      if (r.method !== method || !r.path.startsWith(prefix)) continue;
      const key = decodeURIComponent(r.path.slice('/results/'.length));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
  const keyOf = (runId: string, i: number) => `out/${runId}/p1/m/item-${String(i).padStart(2, '0')}.json`;

  it('keeps the members the first invocation stored and writes each of the rest once in the next', async () => {
    const copy = await exportingRun('resume', members());

    const [handedOn, ...more] = await invoke(copy);
    expect(more).toEqual([]);
    expect(handedOn).toMatchObject({ ...copy, handedOn: true });
    const k = handedOn!.kind === 'copy' ? handedOn!.resume!.members : 0;
    expect(k).toBeGreaterThan(0);
    expect(k).toBeLessThan(MEMBERS);
    expect(handedOn).toMatchObject({ resume: { members: k, bytes: k * BODY.length } });
    // Exactly the first k members are in the bucket: nothing past them was left behind.
    expect(await storedKeys('resume')).toEqual(Array.from({ length: k }, (_, i) => keyOf('resume', i)));

    expect(await invoke(handedOn!)).toEqual([]);
    const run = (await h.main.runtime.state.getRun('resume'))!;
    expect(run.phase).toBe('completed');
    expect(run.exported).toMatchObject({ files: MEMBERS, bytes: MEMBERS * BODY.length });
    expect(await storedKeys('resume')).toEqual(Array.from({ length: MEMBERS }, (_, i) => keyOf('resume', i)));
    // Across both invocations every member was written once.
    const puts = requestsFor('resume', 'PUT');
    expect(puts.size).toBe(MEMBERS);
    expect([...puts.values()].every((n) => n === 1)).toBe(true);
    expect(server.requests.get('/resume.tar')).toBe(2);
  }, 30_000);

  it('removes the members of both invocations when the archive fails after it was handed on', async () => {
    // A member past the first invocation's reach would land outside the run folder.
    const copy = await exportingRun('resume-fail', [...members(), ['../escape.json', '{}']]);

    const [handedOn] = await invoke(copy);
    const k = handedOn!.kind === 'copy' ? (handedOn!.resume?.members ?? 0) : 0;
    expect(k).toBeGreaterThan(0);
    expect(await storedKeys('resume-fail')).toHaveLength(k);

    expect(await invoke(handedOn!)).toEqual([]);
    const run = (await h.main.runtime.state.getRun('resume-fail'))!;
    expect(run.phase).toBe('failed');
    const failures: FileFailure[] = [];
    for await (const f of h.main.runtime.state.failures('resume-fail')) failures.push(f);
    expect(failures.map((f) => f.name)).toEqual(['p1/resume-fail.tar']);
    expect(failures[0]!.reason).toContain('outside the run folder');
    expect(await storedKeys('resume-fail')).toEqual([]);
    // The first invocation's members were removed by the second.
    const deletes = requestsFor('resume-fail', 'DELETE');
    for (let i = 0; i < k; i++) expect(deletes.get(keyOf('resume-fail', i))).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
