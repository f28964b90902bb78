import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateServiceAccount } from '../../sandbox/gcs-keys';
import { startFakeGcs, type FakeGcsServer } from '../../sandbox/gcs-server';
import { silentLogger } from '../../shared/log';
import { referenceName } from '../../shared/pipeline/name';
import { UploadChunk } from '../../shared/pipeline/upload/upload-chunk';
import { noProgress } from '../../shared/progress';
import { newRunRecord } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { FileFailure, RunRecord } from '../../shared/state/run-record';
import { createGcsClient, createGcsSigner } from '../../shared/storage/gcs-client';
import { GcsStore } from '../../shared/storage/gcs-store';
import type { ObjectStore, StoredObject } from '../../shared/storage/port';
import type { UploadIntake, UploadSlot } from '../../shared/targets/port';
import { specFor, tempDir } from '../support/domain';
import { startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server';
import { startTestS3, type TestS3 } from '../support/s3';

const S3_BUCKET = 'upload-src';
const GCS_BUCKET = 'upload-src-gcs';
const KEYS = Array.from({ length: 11 }, (_, i) => `cams/${i % 2 ? 'Night' : 'day'}/${String(i).padStart(3, '0')}.jpg`);
const bodyOf = (i: number) => Buffer.alloc(300 + i * 997, i + 1);

/** Archive slots on a loopback PUT sink, with small limits so a chunk spans several archives. */
function sinkIntake(sink: RecordingServer): UploadIntake & { slots: number } {
  const intake = {
    slots: 0,
    async archiveSlot(): Promise<UploadSlot> {
      return { url: `${sink.url}/slot/${intake.slots++}?X-Goog-Signature=secret`, headers: { 'X-Goog-Meta-Batch-Id': 'b1' }, maxMembers: 4, maxBytes: 64 * 1024 };
    },
    async fileSlot(): Promise<UploadSlot> {
      return { url: `${sink.url}/file/${intake.slots++}`, headers: {} };
    },
    referencesRefusal: () => undefined,
  };
  return intake;
}

async function tarEntries(tar: Buffer): Promise<Array<{ name: string; body: Buffer }>> {
  const out: Array<{ name: string; body: Buffer }> = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => void buffer(stream).then((body) => (out.push({ name: header.name, body }), next()), reject));
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  return out;
}

const puts = (sink: RecordingServer) => sink.requests.filter((r) => r.method === 'PUT');
const digest = (r: RecordedRequest) => createHash('sha256').update(r.rawBody).digest('hex');
/** Each archive's bytes, by its first member (archives go up concurrently, in any order). */
async function archivesByFirstMember(requests: RecordedRequest[], listing: StoredObject[]): Promise<Array<[string, string]>> {
  const position = (name: string) => listing.findIndex((o) => referenceName(o.key) === name);
  const out: Array<[string, string]> = [];
  for (const r of requests) out.push([(await tarEntries(r.rawBody))[0]!.name, digest(r)]);
  return out.sort(([a], [b]) => position(a) - position(b));
}

describe('upload chunks streamed from the source into tar archives', () => {
  let s3: TestS3;
  let gcs: FakeGcsServer;
  let gcsStore: GcsStore;
  let sink: RecordingServer;

  beforeAll(async () => {
    s3 = await startTestS3({ buckets: [S3_BUCKET] });
    gcs = await startFakeGcs({ buckets: [GCS_BUCKET] });
    const account = generateServiceAccount('upload-it');
    gcs.trust(account.email, account.publicKey);
    const settings = { signing: { kind: 'key' as const, key: account.key }, apiEndpoint: gcs.url, projectId: 'local-project', retryOptions: { maxRetries: 1, maxRetryDelay: 1, totalTimeout: 5 } };
    const client = createGcsClient(settings);
    gcsStore = new GcsStore(client, GCS_BUCKET, { signer: createGcsSigner(settings, client), signedUrlBase: gcs.url });
    for (const [i, key] of KEYS.entries()) {
      await s3.store(S3_BUCKET).write(key, bodyOf(i));
      gcs.put(GCS_BUCKET, key, bodyOf(i));
    }
    sink = await startRecordingServer(() => ({ status: 200, body: '' }));
  });
  afterAll(async () => {
    await sink.close();
    gcs.close();
    await s3.server.close();
  });
  beforeEach(() => {
    sink.reset();
    sink.setRoute(() => ({ status: 200, body: '' }));
  });

  async function listed(store: ObjectStore): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for await (const page of store.list('cams/')) out.push(...page.objects);
    return out;
  }

  async function setup(source: ObjectStore, runId: string) {
    const state = new FileStateStore(await tempDir('bb-upload-state-'));
    const run: RunRecord = newRunRecord(runId, specFor(`s3://${S3_BUCKET}/cams/`, `s3://${S3_BUCKET}/out/`, { ingest: 'upload' }));
    await state.createRun(run);
    const uploads = sinkIntake(sink);
    const deps = { source, state, uploads, target: undefined as never, log: silentLogger, progress: noProgress };
    return { state, run, deps };
  }

  for (const store of ['S3', 'GCS'] as const) {
    it(`streams a chunk from ${store} into archives of at most 4 images, each PUT with its exact Content-Length and the extension headers`, async () => {
      const source = store === 'S3' ? s3.store(S3_BUCKET) : gcsStore;
      const objects = await listed(source);
      const { state, run, deps } = await setup(source, `up-${store.toLowerCase()}`);
      const chunk = await new UploadChunk(deps, run, 0).submit(objects);
      expect(chunk).toMatchObject({ status: 'ingested', references: 11, archivesSent: [[0, 2]] });
      const sent = puts(sink);
      expect(sent).toHaveLength(3);
      const entries = [];
      for (const put of sent) {
        expect(Number(put.headers['content-length'])).toBe(put.rawBody.length);
        expect(put.headers['x-goog-meta-batch-id']).toBe('b1');
        entries.push(...(await tarEntries(put.rawBody)));
      }
      // Archives go up concurrently: each holds consecutive objects of the listing, in order.
      entries.sort((a, b) => a.name.localeCompare(b.name));
      const inOrder = [...objects].sort((a, b) => referenceName(a.key).localeCompare(referenceName(b.key)));
      expect(entries.map((e) => e.name)).toEqual(inOrder.map((o) => referenceName(o.key)));
      expect(entries.map((e) => e.body)).toEqual(inOrder.map((o) => bodyOf(KEYS.indexOf(o.key))));
      const names = [];
      for await (const n of state.names(run.runId)) names.push(n);
      expect(names).toEqual(objects.map((o) => ({ name: referenceName(o.key), key: o.key })));
    });
  }

  it('a chunk resumed after a yield, and an archive retried after a 503, re-send exactly the archives of an uninterrupted run', async () => {
    const source = s3.store(S3_BUCKET);
    const objects = await listed(source);
    const whole = await setup(source, 'up-whole');
    await new UploadChunk(whole.deps, whole.run, 0).submit(objects);
    const expected = await archivesByFirstMember(puts(sink), objects);
    expect(expected).toHaveLength(3);
    expect(expected[0]![0]).toBe(referenceName(objects[0]!.key));
    sink.requests.length = 0;

    const resumed = await setup(source, 'up-resumed');
    // The first archive meets a 503 once (retried with the same bytes); the invocation then runs out of time.
    let asked = 0;
    sink.enqueue({ status: 503, body: 'slow down' });
    const first = await new UploadChunk(resumed.deps, resumed.run, 0, { shouldYield: () => asked++ > 0 }).submit(objects);
    expect(first).toBeUndefined();
    expect(await resumed.state.getChunk(resumed.run.runId, { index: 0 })).toMatchObject({ status: 'written', archivesSent: [[0, 0]] });
    expect(await archivesByFirstMember(puts(sink), objects)).toEqual([expected[0], expected[0]]);

    const rest = await new UploadChunk(resumed.deps, resumed.run, 0).submit(objects);
    expect(rest).toMatchObject({ status: 'ingested', archivesSent: [[0, 2]] });
    expect(await archivesByFirstMember(puts(sink).slice(2), objects)).toEqual(expected.slice(1));
    // The resumed chunk records its names again, the same mappings (the CLI's resume first drops those past the checkpoint).
    const names = new Set<string>();
    for await (const n of resumed.state.names(resumed.run.runId)) names.add(JSON.stringify(n));
    expect([...names].map((n) => JSON.parse(n))).toEqual(objects.map((o) => ({ name: referenceName(o.key), key: o.key })));
  });

  it('records an object whose size changed since listing as failed, with its key, and sends its archive without it', async () => {
    const source = s3.store(S3_BUCKET);
    const objects = await listed(source);
    const changed = objects[5]!;
    const { state, run, deps } = await setup(source, 'up-changed');
    await source.write(changed.key, Readable.from([Buffer.alloc(changed.size + 3, 9)]));
    try {
      await new UploadChunk(deps, run, 0).submit(objects);
    } finally {
      await source.write(changed.key, bodyOf(KEYS.indexOf(changed.key)));
    }
    const failures: FileFailure[] = [];
    for await (const f of state.failures(run.runId)) failures.push(f);
    expect(failures).toEqual([expect.objectContaining({ key: changed.key, name: referenceName(changed.key), stage: 'ingest', type: 'size-changed' })]);
    const delivered = [];
    for (const put of puts(sink)) {
      if (put.rawBody.length === Number(put.headers['content-length'])) delivered.push(...(await tarEntries(put.rawBody).catch(() => [])));
    }
    const names = delivered.map((e) => e.name);
    expect(names).not.toContain(referenceName(changed.key));
    expect(names.sort()).toEqual(objects.filter((o) => o !== changed).map((o) => referenceName(o.key)).sort());
  });
});
