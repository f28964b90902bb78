import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { silentLogger } from '../shared/log';
import type { BridgeDeps } from '../shared/run/deps';
import { createRun } from '../shared/run/start-run';
import { continueSubmission } from '../shared/run/submit-run';
import { FileStateStore } from '../shared/state/file-state';
import { readChunks } from '../shared/state/run-chunks';
import type { ListOptions, ListPage, ObjectStore, PresignOptions, WriteBody, WriteOptions } from '../shared/storage/port';
import { createS3Client } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import { benchRunSpec, benchKey, reportResult, S3RVER_CREDENTIALS } from './lib';
import { submitOnlyTarget } from './submit-only-target';

/**
 * list → name → presign → JSONL, through the real submission use case (continueSubmission), with
 * file-backed state (names.jsonl on disk, as the CLI) and a target that accepts every references
 * file. Usage: pipeline.ts <s3|synthetic> <endpoint> <count> [s3|sink]
 *   s3:        the listing comes from the local S3 server (seeded with <count> objects)
 *   synthetic: an in-memory ObjectStore generates <count> objects page by page
 * The references files go to the local S3 server (`s3`, default) or to a byte-counting sink.
 */
const [source = 's3', endpoint = '', countArg = '0', sinkArg = 's3'] = process.argv.slice(2);
const count = Number(countArg);
const client = createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
const bucket = new S3Store(client, 'media');

/** Keeps the bytes count, drops the bytes: for when the S3 server's disk would be the bottleneck. */
class CountingSink {
  files = 0;
  bytes = 0;
  async write(_key: string, body: WriteBody): Promise<{ bytes: number }> {
    let n = 0;
    if (typeof body === 'string' || Buffer.isBuffer(body)) n = Buffer.byteLength(body);
    else for await (const chunk of body as Readable) n += (chunk as Buffer).length;
    this.files++;
    this.bytes += n;
    return { bytes: n };
  }
}
const sink = new CountingSink();

/** A bucket whose listing is generated lazily, one page at a time; signing and writes are real. */
class SyntheticStore implements ObjectStore {
  readonly bucket = 'media';
  constructor(
    private readonly total: number,
    private readonly real: S3Store,
  ) {}
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListPage> {
    const pageSize = options.pageSize ?? 1000;
    for (let i = options.startToken ? Number(options.startToken) : 0; i < this.total; ) {
      const n = Math.min(pageSize, this.total - i);
      const objects = Array.from({ length: n }, (_, j) => ({ key: benchKey(prefix, i + j), size: 150_000 + ((i + j) % 997), etag: `e${i + j}` }));
      i += n;
      yield { objects, nextToken: i < this.total ? String(i) : undefined };
    }
  }
  presignGet(key: string, options: PresignOptions) {
    return this.real.presignGet(key, options);
  }
  write(key: string, body: WriteBody, options?: WriteOptions) {
    return sinkArg === 'sink' ? sink.write(key, body) : this.real.write(key, body, options);
  }
  read(key: string) {
    return this.real.read(key);
  }
  sizeOf(key: string) {
    return this.real.sizeOf(key);
  }
  delete(key: string) {
    return this.real.delete(key);
  }
  credentialsExpiry() {
    return this.real.credentialsExpiry();
  }
}

const target = submitOnlyTarget({ name: 'bench', submitChunk: async () => ({ duplicated: false }) });

const stateDir = mkdtempSync(join(tmpdir(), 'bucket-bridge-bench-state-'));
const store: ObjectStore = source === 'synthetic' ? new SyntheticStore(count, bucket) : bucket;
let signed = 0;
const deps: BridgeDeps = {
  source: store,
  dest: store,
  state: new FileStateStore(stateDir),
  target,
  log: silentLogger,
  progress: (stage, n) => {
    if (stage === 'signed') signed += n;
  },
  pageSize: 1000,
};
const spec = benchRunSpec();

try {
  const started = performance.now();
  const run = await createRun(deps, spec);
  const outcome = await continueSubmission(deps, run.runId);
  const seconds = (performance.now() - started) / 1000;
  const final = (await deps.state.getRun(run.runId))!;
  const chunks = await readChunks(deps.state, run.runId);
  // The references files really are in the bucket (or the sink), with every line.
  let storedBytes = 0;
  if (sinkArg === 'sink' && source === 'synthetic') storedBytes = sink.bytes;
  else for (const chunk of chunks) storedBytes += (await bucket.sizeOf(chunk.manifestKey)) ?? 0;
  reportResult({
    outcome,
    seconds,
    listed: final.listed,
    submitted: final.submitted,
    signed,
    files: chunks.length,
    lines: chunks.reduce((n, c) => n + c.references, 0),
    storedBytes,
    sink: source === 'synthetic' ? sinkArg : 's3',
  });
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
