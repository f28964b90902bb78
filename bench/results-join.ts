import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { silentLogger } from '../shared/log';
import { referenceName } from '../shared/pipeline/name';
import { writeResultsByKey } from '../shared/results/results-by-key';
import { newRunRecord } from '../shared/run/start-run';
import { FileStateStore } from '../shared/state/file-state';
import type { ListPage, ObjectStore, WriteBody } from '../shared/storage/port';
import { benchKey, reportResult } from './lib';

/**
 * The results-by-key join of a run of <count> objects, as the CLI does it: the name map on disk
 * (FileStateStore's names.jsonl), one failure per 100 objects, and a destination whose listing
 * holds one unpacked result per object (`results-N/<name>.json`, generated page by page) or, with
 * `aggregated`, Roboflow JSONL files of 256 prediction rows each. What is written is counted, not
 * stored. Usage: results-join.ts <count> [objects|aggregated]
 */
const [countArg = '200000', shape = 'objects'] = process.argv.slice(2);
const count = Number(countArg);
const ROWS_PER_FILE = 256;
const key = (i: number) => benchKey('cams/', i);

class GeneratedResults implements ObjectStore {
  readonly bucket = 'results';
  written = new Map<string, number>();

  async *list(prefix: string): AsyncIterable<ListPage> {
    const total = shape === 'aggregated' ? Math.ceil(count / ROWS_PER_FILE) : count;
    for (let i = 0; i < total; i += 1000) {
      const objects = [];
      for (let j = i; j < Math.min(total, i + 1000); j++) {
        const rel = shape === 'aggregated' ? `results/results-${String(j + 1).padStart(5, '0')}.jsonl` : `results-${(j % 2) + 1}/${referenceName(key(j))}.json`;
        objects.push({ key: `${prefix}${rel}`, size: shape === 'aggregated' ? ROWS_PER_FILE * 120 : 300 });
      }
      yield { objects };
    }
  }

  async read(objectKey: string): Promise<Readable> {
    const file = Number(/results-(\d+)\.jsonl$/.exec(objectKey)![1]) - 1;
    const first = file * ROWS_PER_FILE;
    const last = Math.min(count, first + ROWS_PER_FILE);
    return Readable.from(
      (function* () {
        for (let i = first; i < last; i++) yield JSON.stringify({ name: referenceName(key(i)), predictions: [{ class: 'car', confidence: 0.9, x: i % 640, y: 7, width: 30, height: 20 }] }) + '\n';
      })(),
    );
  }

  async write(objectKey: string, body: WriteBody): Promise<{ bytes: number }> {
    let n = 0;
    if (typeof body === 'string' || Buffer.isBuffer(body)) n = Buffer.byteLength(body);
    else for await (const chunk of body as Readable) n += (chunk as Buffer).length;
    this.written.set(objectKey.slice(objectKey.lastIndexOf('/') + 1), n);
    return { bytes: n };
  }

  presignGet = unused;
  sizeOf = unused;
  delete = unused;
  credentialsExpiry = unused;
}

function unused(): never {
  throw new Error('not used by the join');
}

const dir = mkdtempSync(join(tmpdir(), 'bb-bench-join-'));
try {
  const state = new FileStateStore(dir);
  const run = { ...newRunRecord('bench-join', { source: { scheme: 's3' as const, bucket: 'media', prefix: 'cams/' }, dest: { scheme: 's3' as const, bucket: 'results', prefix: 'out/' }, media: 'images' as const, target: { name: 'roboflow' as const, workspace: 'w', workflowId: 'f', job: {} }, urlLifetimeSeconds: 3600, manifestPrefix: 'm/', keepArchives: false }), listed: count, submitted: count };
  await state.createRun(run);
  for (let i = 0; i < count; i += 20_000) {
    const names = [];
    for (let j = i; j < Math.min(count, i + 20_000); j++) names.push({ name: referenceName(key(j)), key: key(j) });
    await state.appendNames(run.runId, names);
  }
  const failures = [];
  for (let i = 0; i < count; i += 100) failures.push({ name: referenceName(key(i)), key: key(i), stage: 'ingest' as const, type: 'file-download-failed', reason: 'bench' });
  await state.recordFailures(run.runId, failures);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const dest = new GeneratedResults();
  const started = performance.now();
  const counts = await writeResultsByKey({ dest, state, log: silentLogger }, run);
  const seconds = (performance.now() - started) / 1000;
  reportResult({ ...counts, seconds, rssBefore, written: Object.fromEntries(dest.written) });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
