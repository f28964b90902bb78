import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLimit } from '../shared/concurrency';
import { silentLogger } from '../shared/log';
import { UploadChunk, UPLOAD_CONCURRENCY } from '../shared/pipeline/upload/upload-chunk';
import { noProgress } from '../shared/progress';
import { newRunRecord } from '../shared/run/start-run';
import { FileStateStore } from '../shared/state/file-state';
import { createS3Client } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import type { StoredObject } from '../shared/storage/port';
import { benchRunSpec, MiB, reportResult, S3RVER_CREDENTIALS } from './lib';

/**
 * Upload mode against a plain stream copy of the same bytes. Usage:
 *   upload.ts seed <s3 endpoint> <objects> <KiB each>   writes the objects to media/up/
 *   upload.ts bridge <s3 endpoint> <sink url> <images per archive>
 *             one chunk through UploadChunk: tar archives streamed from the bucket to signed PUTs
 *             (the sink reads and drops them), UPLOAD_CONCURRENCY archives at a time
 *   upload.ts baseline <s3 endpoint>
 *             each object streamed from media/up/ into results/copy/, UPLOAD_CONCURRENCY at a time
 */
const [mode = 'bridge', endpoint = '', third = '', fourth = ''] = process.argv.slice(2);
const client = createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
const media = new S3Store(client, 'media');

if (mode === 'seed') {
  const count = Number(third);
  const body = Buffer.alloc(Number(fourth) * 1024, 0x5a);
  await mapLimit(Array.from({ length: count }, (_, i) => i), 8, (i) => media.write(`up/${String(i).padStart(6, '0')}.jpg`, body));
  reportResult({ mode, objects: count });
} else {
  const objects: StoredObject[] = [];
  for await (const page of media.list('up/')) objects.push(...page.objects);
  const bytes = objects.reduce((n, o) => n + o.size, 0);
  const started = performance.now();
  if (mode === 'bridge') {
    const perArchive = Number(fourth);
    const state = new FileStateStore(await mkdtemp(join(tmpdir(), 'bucket-bridge-bench-upload-')));
    const run = newRunRecord('bench-upload', benchRunSpec({ source: { scheme: 's3', bucket: 'media', prefix: 'up/' }, urlLifetimeSeconds: 3600, ingest: 'upload' }));
    await state.createRun(run);
    let slots = 0;
    const uploads = {
      archiveSlot: async () => ({ url: `${third}/shard/${slots++}`, headers: { 'x-goog-meta-bench': '1' }, maxMembers: perArchive, maxBytes: 512 * MiB }),
      fileSlot: async () => ({ url: `${third}/file/${slots++}`, headers: {} }),
      referencesRefusal: () => undefined,
    };
    const chunk = await new UploadChunk({ source: media, state, uploads, target: undefined as never, log: silentLogger, progress: noProgress }, run, 0).submit(objects);
    if (chunk?.status !== 'ingested') throw new Error('the chunk was not uploaded');
    let failed = 0;
    for await (const _ of state.failures(run.runId)) failed++;
    if (failed > 0) throw new Error(`${failed} objects failed`);
  } else {
    const results = new S3Store(client, 'results');
    await mapLimit(objects, UPLOAD_CONCURRENCY, async (o) => {
      await results.write(`copy/${o.key}`, await media.read(o.key), { expectedBytes: o.size });
    });
  }
  const seconds = (performance.now() - started) / 1000;
  reportResult({ mode, seconds, objects: objects.length, bytes, objectsPerSecond: objects.length / seconds, mbPerSecond: bytes / MiB / seconds });
}
