import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { exportResults } from '../../shared/pipeline/export';
import { noProgress } from '../../shared/progress';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { RunRecord } from '../../shared/state/run-record';
import { specFor, tempDir } from '../support/domain';
import { exportOnlyTarget } from '../support/export-target';
import { listObjects, createBucket, startTestS3, type TestS3 } from '../support/s3';
import { buildSummary } from '../../shared/pipeline/summary';

async function targz(entries: Array<[string, string]>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of entries) p.entry({ name }, body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  return gzipSync(Buffer.concat(chunks));
}

describe('export of result archives', () => {
  let s3: TestS3;
  let files: Server;
  let base: string;
  const served = new Map<string, Buffer>();

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [] });
    await createBucket(s3.client, 'out');
    served.set('/good.tar.gz', await targz([['a.json', '{"a":1}'], ['sub/b.json', '{"b":2}']]));
    served.set('/evil.tar.gz', await targz([['ok.json', '{}'], ['../../escape.json', 'gotcha'], ['later.json', '{}']]));
    served.set('/abs.tar.gz', await targz([['/etc/cron.d/x', 'gotcha']]));
    served.set('/plain.jsonl', Buffer.from('{"x":1}\n{"x":2}\n'));
    files = createServer((req, res) => {
      const body = served.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    files.close();
    await s3.server.close();
  });

  async function exportWith(runId: string, keepArchives: boolean) {
    const state = new FileStateStore(await tempDir('bb-export-'));
    const run: RunRecord = {
      ...newRunRecord(runId, specFor('s3://out/in/', 's3://out/results/', { keepArchives })),
      jobId: 'job',
      phase: 'processing',
      submitted: 3,
      checkpoint: { nextChunk: 1 },
      submissionComplete: true,
      jobStarted: true,
    };
    await state.createRun(run);
    const target = exportOnlyTarget([
      { partName: 'p1', fileName: 'good.tar.gz', locator: { kind: 'url', url: `${base}/good.tar.gz?sig=secret` } },
      { partName: 'p1', fileName: 'evil.tar.gz', locator: { kind: 'url', url: `${base}/evil.tar.gz?sig=secret` } },
      { partName: 'p1', fileName: 'abs.tar.gz', locator: { kind: 'url', url: `${base}/abs.tar.gz?sig=secret` } },
      { partName: 'p2', fileName: 'plain.jsonl', locator: { kind: 'url', url: `${base}/plain.jsonl?sig=secret` } },
    ]);
    const result = await exportResults({ dest: s3.store('out'), state, target, log: silentLogger, progress: noProgress }, runId);
    const failures = [];
    for await (const f of state.failures(runId)) failures.push(f);
    const stored = (await state.getRun(runId))!;
    return { result, failures, run: stored, summary: await buildSummary(state, stored) };
  }

  it('unpacks archives into the run folder and rejects members that would escape it', async () => {
    const { result, failures, run, summary } = await exportWith('unpack', false);
    expect(result).toBe('failed');
    expect(run.error).toBe('2 result file(s) could not be copied');
    expect(failures.map((f) => [f.name, f.stage])).toEqual(
      expect.arrayContaining([
        ['p1/evil.tar.gz', 'export'],
        ['p1/abs.tar.gz', 'export'],
      ]),
    );
    expect(failures.every((f) => /outside the run folder/.test(f.reason))).toBe(true);

    const keys = (await listObjects(s3.store('out'), '')).map((o) => o.key).sort();
    expect(keys.every((k) => k.startsWith('results/unpack/'))).toBe(true);
    expect(keys).not.toContain('escape.json');
    // The rejected archive's good member before the escape is not left behind: the bucket holds what the summary counts.
    expect(keys.filter((k) => k.startsWith('results/unpack/p1/'))).toEqual(['results/unpack/p1/a.json', 'results/unpack/p1/sub/b.json']);
    expect(keys.some((k) => k.includes('escape') || k.includes('cron'))).toBe(false);
    expect(keys).toEqual(
      expect.arrayContaining([
        'results/unpack/p1/a.json',
        'results/unpack/p1/sub/b.json',
        'results/unpack/p2/plain.jsonl',
        'results/unpack/summary.json',
        'results/unpack/failed.jsonl',
      ]),
    );
    expect(await text(await s3.store('out').read('results/unpack/p1/sub/b.json'))).toBe('{"b":2}');
    const failedJsonl = await text(await s3.store('out').read('results/unpack/failed.jsonl'));
    expect(failedJsonl).toContain('evil.tar.gz');
    expect(failedJsonl).not.toContain('sig=secret');
    expect(summary.exported.parts.p1).toEqual({ files: 2, bytes: 14 });
  });

  it('keeps archives as they are when asked', async () => {
    const { result, run } = await exportWith('keep', true);
    expect(result).toBe('completed');
    const keys = (await listObjects(s3.store('out'), 'results/keep/')).map((o) => o.key).sort();
    expect(keys).toEqual([
      'results/keep/failed.jsonl',
      'results/keep/names.jsonl',
      'results/keep/p1/abs.tar.gz',
      'results/keep/p1/evil.tar.gz',
      'results/keep/p1/good.tar.gz',
      'results/keep/p2/plain.jsonl',
      // Its rows name no object: written again with an empty source_key.
      'results/keep/predictions-by-key.jsonl',
      'results/keep/report.html',
      'results/keep/results-by-key.jsonl',
      'results/keep/summary.json',
    ]);
    expect(await s3.store('out').sizeOf('results/keep/p1/good.tar.gz')).toBe(served.get('/good.tar.gz')!.length);
    expect(run.exported?.files).toBe(4);
  });
});
