import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { exportResults, FILES_IN_FLIGHT } from '../../shared/pipeline/export';
import { noProgress } from '../../shared/progress';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { RunRecord } from '../../shared/state/run-record';
import { specFor, tempDir } from '../support/domain';
import { exportOnlyTarget } from '../support/export-target';
import { createBucket, listObjects, startTestS3, type TestS3 } from '../support/s3';

const FILES = 96;

/**
 * The CLI export of many small per-image result files: a file server that answers each after
 * 100 ms (a store across a network) and counts the downloads open at once.
 */
describe('export of many small result files', () => {
  let s3: TestS3;
  let files: Server;
  let base: string;
  let open = 0;
  let maxOpen = 0;
  let downloads = 0;

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [] });
    await createBucket(s3.client, 'out');
    files = createServer((req, res) => {
      downloads++;
      maxOpen = Math.max(maxOpen, ++open);
      const body = Buffer.from(JSON.stringify({ file: req.url, predictions: [] }));
      setTimeout(() => {
        open--;
        res.writeHead(200, { 'content-length': body.length }).end(body);
      }, 100);
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    files.close();
    await s3.server.close();
  });

  it(`copies ${FILES_IN_FLIGHT} files at once, each once`, async () => {
    const state = new FileStateStore(await tempDir('bb-export-many-'));
    const run: RunRecord = {
      ...newRunRecord('many', specFor('s3://out/in/', 's3://out/results/')),
      jobId: 'job',
      phase: 'processing',
      submitted: FILES,
      checkpoint: { nextChunk: 1 },
      submissionComplete: true,
      jobStarted: true,
    };
    await state.createRun(run);
    const outputs = Array.from({ length: FILES }, (_, i) => ({ partName: 'p1', fileName: `img-${i}.json`, locator: { kind: 'url' as const, url: `${base}/img-${i}.json?sig=secret` } }));
    const result = await exportResults({ dest: s3.store('out'), state, target: exportOnlyTarget(outputs), log: silentLogger, progress: noProgress }, 'many');
    expect(result).toBe('completed');
    const stored = (await listObjects(s3.store('out'), 'results/many/p1/')).filter((o) => /img-\d+\.json$/.test(o.key));
    expect(stored).toHaveLength(FILES);
    expect(downloads).toBe(FILES);
    // Four at a time (as before) would have kept at most 4 downloads open.
    expect(maxOpen).toBe(FILES_IN_FLIGHT);
  }, 30_000);
});
