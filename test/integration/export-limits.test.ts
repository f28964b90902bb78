import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { exportResults } from '../../shared/pipeline/export';
import type { ExportLimits } from '../../shared/pipeline/export-limits';
import { noProgress } from '../../shared/progress';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { FileFailure, RunRecord } from '../../shared/state/run-record';
import { startArchiveServer, targzOf, type ArchiveServer, type Route } from '../support/archive-server';
import { specFor, tempDir } from '../support/domain';
import { exportOnlyTarget } from '../support/export-target';
import { createBucket, listObjects, startTestS3, type TestS3 } from '../support/s3';
import { buildSummary } from '../../shared/pipeline/summary';

const GiB = 1024 ** 3;

/**
 * Hostile and broken result files, served by a real HTTP server and exported through the export
 * use case into the local S3 server: whatever happens, the bucket holds exactly what the run's
 * summary counts, and failures that would repeat are not retried.
 */
describe('export limits and all-or-nothing archives', () => {
  let s3: TestS3;
  let server: ArchiveServer;

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [] });
    await createBucket(s3.client, 'out');
    server = await startArchiveServer();
  });
  afterAll(async () => {
    await server.close();
    await s3.server.close();
  });

  /** Exports one good archive (`good.tar.gz`, 2 members) and `file` served by `route`, both in part p1. */
  async function exportWith(runId: string, file: string, route: Route, limits?: Partial<ExportLimits>) {
    server.serve(`/${runId}/good.tar.gz`, { kind: 'bytes', body: await targzOf([['a.json', '{"a":1}'], ['b.json', '{"b":2}']]) });
    server.serve(`/${runId}/${file}`, route);
    const state = new FileStateStore(await tempDir('bb-export-limits-'));
    const run: RunRecord = {
      ...newRunRecord(runId, specFor('s3://out/in/', 's3://out/results/')),
      jobId: 'job',
      phase: 'processing',
      submissionComplete: true,
      jobStarted: true,
    };
    await state.createRun(run);
    const target = exportOnlyTarget([
      { partName: 'p1', fileName: 'good.tar.gz', locator: { kind: 'url', url: `${server.base}/${runId}/good.tar.gz?X-Amz-Signature=secret` } },
      { partName: 'p1', fileName: file, locator: { kind: 'url', url: `${server.base}/${runId}/${file}?X-Amz-Signature=secret` } },
    ]);
    const started = performance.now();
    const result = await exportResults({ dest: s3.store('out'), state, target, log: silentLogger, progress: noProgress, exportLimits: limits }, runId);
    const seconds = (performance.now() - started) / 1000;
    const failures: FileFailure[] = [];
    for await (const f of state.failures(runId)) failures.push(f);
    const keys = (await listObjects(s3.store('out'), `results/${runId}/p1/`)).map((o) => o.key.slice(`results/${runId}/p1/`.length)).sort();
    const stored = (await state.getRun(runId))!;
    return { result, failures, run: stored, summary: await buildSummary(state, stored), keys, seconds, requests: server.requests.get(`/${runId}/${file}`) ?? 0 };
  }

  /** The summary counts exactly the objects in the bucket: the good archive's two members. */
  function expectOnlyTheGoodArchive(outcome: Awaited<ReturnType<typeof exportWith>>, file: string) {
    expect(outcome.result).toBe('failed');
    expect(outcome.keys).toEqual(['a.json', 'b.json']);
    expect(outcome.summary.exported.parts.p1?.files).toBe(2);
    expect(outcome.run.exported?.files).toBe(outcome.keys.length);
    expect(outcome.failures.map((f) => f.name)).toEqual([`p1/${file}`]);
  }

  it('refuses a 10 GiB gzip bomb by its expansion ratio after a few MB, leaves nothing of it and does not retry it', async () => {
    const outcome = await exportWith('bomb', 'bomb.tar.gz', { kind: 'bomb', member: 'zeros.json', bytes: 10 * GiB });
    expectOnlyTheGoodArchive(outcome, 'bomb.tar.gz');
    expect(outcome.failures[0]!.reason).toMatch(/expands more than 100 times/);
    expect(outcome.requests).toBe(1);
    // The download stopped early: a few MB of the ~10 MB the whole bomb would take compressed.
    expect(server.sent.get('/bomb/bomb.tar.gz')).toBeLessThan(8 * 1024 * 1024);
  }, 30_000);

  it('refuses a member declared beyond the unpacked-bytes cap before storing a byte of it', async () => {
    const outcome = await exportWith('big-member', 'big.tar.gz', { kind: 'bomb', member: 'huge.json', bytes: 11 * GiB });
    expectOnlyTheGoodArchive(outcome, 'big.tar.gz');
    expect(outcome.failures[0]!.reason).toMatch(/unpacks to more than 10 GiB/);
    expect(outcome.requests).toBe(1);
  }, 30_000);

  it('refuses an archive with more members than the cap and removes the members already written', async () => {
    const members: Array<[string, string]> = Array.from({ length: 6 }, (_, i) => [`m${i}.json`, `{"i":${i}}`]);
    const outcome = await exportWith('members', 'many.tar.gz', { kind: 'bytes', body: await targzOf(members) }, { maxMembers: 5 });
    expectOnlyTheGoodArchive(outcome, 'many.tar.gz');
    expect(outcome.failures[0]!.reason).toMatch(/more than 5 members/);
    expect(outcome.requests).toBe(1);
  });

  it('removes what an archive wrote once its members pass the unpacked-bytes cap', async () => {
    const big = 'x'.repeat(600);
    const outcome = await exportWith('bytes', 'heavy.tar.gz', { kind: 'bytes', body: await targzOf([['h1.json', big], ['h2.json', big]]) }, { maxUnpackedBytes: 1000 });
    expectOnlyTheGoodArchive(outcome, 'heavy.tar.gz');
    expect(outcome.failures[0]!.reason).toMatch(/unpacks to more than 1000 bytes/);
  });

  it('removes the good members written before a `../` member and does not retry the archive', async () => {
    const body = await targzOf([['ok.json', '{}'], ['../escape.json', 'gotcha'], ['later.json', '{}']]);
    const outcome = await exportWith('escape', 'evil.tar.gz', { kind: 'bytes', body });
    expectOnlyTheGoodArchive(outcome, 'evil.tar.gz');
    expect(outcome.failures[0]!.reason).toMatch(/outside the run folder/);
    expect(outcome.requests).toBe(1);
    expect((await listObjects(s3.store('out'), '')).some((o) => o.key.endsWith('escape.json'))).toBe(false);
  });

  it('removes the members of a truncated gzip and does not download it again', async () => {
    const members: Array<[string, string]> = Array.from({ length: 300 }, (_, i) => [`r/${i}.json`, randomBytes(300).toString('base64')]);
    const whole = await targzOf(members);
    const outcome = await exportWith('truncated', 'cut.tar.gz', { kind: 'bytes', body: whole.subarray(0, Math.floor(whole.length * 0.6)) });
    expectOnlyTheGoodArchive(outcome, 'cut.tar.gz');
    expect(outcome.failures[0]!.reason).toMatch(/corrupt or truncated/);
    expect(outcome.requests).toBe(1);
  });

  it.each([
    ['aliases', [['x/y.json', '1'], ['x/./y.json', '2'], ['x//y.json', '3']]],
    ['duplicates', [['d.json', '1'], ['d.json', '2']]],
  ] as Array<[string, Array<[string, string]>]>)('refuses an archive whose member names repeat (%s) and leaves none of it', async (kind, members) => {
    const outcome = await exportWith(kind, `${kind}.tar.gz`, { kind: 'bytes', body: await targzOf(members) });
    expectOnlyTheGoodArchive(outcome, `${kind}.tar.gz`);
    expect(outcome.failures[0]!.reason).toMatch(/more than once/);
    expect(outcome.requests).toBe(1);
  });

  it('ends a copy that trickles one byte at a time at its deadline, recorded as failed', async () => {
    const outcome = await exportWith('trickle', 'slow.jsonl', { kind: 'trickle', length: 1000, everyMs: 100 }, { copyTimeoutSeconds: 1 });
    expectOnlyTheGoodArchive(outcome, 'slow.jsonl');
    expect(outcome.failures[0]!.reason).toMatch(/did not finish within 1 s/);
    expect(outcome.seconds).toBeLessThan(10);
    expect(outcome.requests).toBe(1);
  }, 30_000);

  it.each([
    ['closes the connection after sending it all', { close: true }],
    ['closes idle connections after 100 ms', { close: false }],
  ])('copies an archive read slower than a server that %s sends it', async (_what, { close }) => {
    const impatient = await startArchiveServer({ keepAliveTimeoutMs: 100 });
    try {
      const runId = close ? 'closing' : 'keep-alive';
      // 4 MB that does not compress: more than the client buffers, so it is still reading when the server closes.
      const members: Array<[string, string]> = Array.from({ length: 64 }, (_, i) => [`s/${i}.bin`, randomBytes(64 * 1024).toString('latin1')]);
      impatient.serve(`/${runId}.tar.gz`, { kind: 'bytes', body: await targzOf(members), close });
      const state = new FileStateStore(await tempDir('bb-export-slow-'));
      await state.createRun({ ...newRunRecord(runId, specFor('s3://out/in/', 's3://out/results/')), jobId: 'job', phase: 'processing', submissionComplete: true, jobStarted: true });
      const target = exportOnlyTarget([{ partName: 'p1', fileName: 'slow.tar.gz', locator: { kind: 'url', url: `${impatient.base}/${runId}.tar.gz` } }]);
      const result = await exportResults({ dest: s3.store('out'), state, target, log: silentLogger, progress: noProgress }, runId);
      expect(result, (await state.getRun(runId))?.error).toBe('completed');
      expect(impatient.requests.get(`/${runId}.tar.gz`)).toBe(1);
      expect(await listObjects(s3.store('out'), `results/${runId}/p1/s/`)).toHaveLength(64);
    } finally {
      await impatient.close();
    }
  }, 30_000);

  it('still retries a download whose connection dropped, and stores its members once', async () => {
    const body = await targzOf([['c.json', '{"c":3}'], ['d.json', '{"d":4}']]);
    const outcome = await exportWith('dropped', 'flaky.tar.gz', { kind: 'drop-first', body, failures: 1 });
    expect(outcome.result).toBe('completed');
    expect(outcome.requests).toBe(2);
    expect(outcome.keys).toEqual(['a.json', 'b.json', 'c.json', 'd.json']);
    expect(outcome.run.exported?.files).toBe(4);
    expect(await text(await s3.store('out').read('results/dropped/p1/d.json'))).toBe('{"d":4}');
  });
});
