import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { request } from 'undici';
import { silentLogger } from '../shared/log';
import { runExportTask } from '../shared/pipeline/export';
import { newRunRecord } from '../shared/run/start-run';
import { FileStateStore } from '../shared/state/file-state';
import { createS3Client } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import { unpackArchive } from '../shared/pipeline/archive';
import { openDownload } from '../shared/pipeline/download';
import type { BatchTarget, OutputLocator } from '../shared/targets/port';
import { benchRunSpec, reportResult, S3RVER_CREDENTIALS } from './lib';

/**
 * One result file from a download URL into the bucket. Usage: export.ts <mode> <s3 endpoint> <url> <bytes>
 *   bridge:   the export use case (runExportTask → openDownload → S3Store.write with its size check)
 *   members:  the export use case unpacking a .tar.gz of <bytes> small members (the byte service's
 *             `?members=N` archive) into as many objects
 *   members-serial: the same archive unpacked with each member written before the next is read
 *             (how export wrote members before they were written several at a time)
 *   baseline: the same undici download piped straight into lib-storage's Upload with its defaults
 *             (5 MiB parts, 4 in flight): the plain stream copy anyone would write
 *   put:      the same download as the body of one PutObject with Content-Length (no multipart)
 */
const [mode = 'bridge', endpoint = '', url = '', bytesArg = '0'] = process.argv.slice(2);
const size = Number(bytesArg);
const client = createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
const archive = mode === 'members' || mode === 'members-serial';
const source = archive ? `${url}?members=${size}` : `${url}?bytes=${size}`;
const fileName = archive ? 'results.tar.gz' : 'predictions.jsonl';
const stateDir = mkdtempSync(join(tmpdir(), 'bucket-bridge-bench-export-'));
let key = `bench/${mode}/predictions.jsonl`;

try {
  // The byte service builds an archive on its first request: not part of the copy.
  if (archive) await (await request(source, { reset: true })).body.dump({ limit: Number.POSITIVE_INFINITY });
  const started = performance.now();
  let stored = 0;
  if (mode === 'members-serial') {
    const download = await openDownload(source, fileName);
    const dest = new S3Store(client, 'results');
    stored = await unpackArchive(fileName, download.body, async (member) => {
      await dest.write(`serial/${member.path}`, member.stream, { expectedBytes: member.size });
    });
  } else if (mode === 'bridge' || mode === 'members') {
    const state = new FileStateStore(stateDir);
    const spec = benchRunSpec();
    const run = { ...newRunRecord('bench-export', spec), phase: 'exporting' as const };
    await state.createRun(run);
    // The export path as deployed: the target opens the signed URL, the store streams it in.
    const target = { openOutput: (locator: OutputLocator, label: string) => openDownload((locator as { url: string }).url, label) } as BatchTarget;
    const deps = { dest: new S3Store(client, 'results'), state, target, log: silentLogger, progress: () => {} };
    await runExportTask(deps, run.runId, { taskId: 't1', part: 'part-0', fileName, locator: { kind: 'url', url: source } }, { attempts: 1 });
    for await (const r of state.exportTaskResults(run.runId)) {
      if (r.failure) throw new Error(`export failed: ${r.failure.reason}`);
      stored = archive ? r.files : r.bytes;
    }
    key = `out/${run.runId}/part-0/${fileName}`;
  } else {
    const res = await request(source, { method: 'GET', headersTimeout: 60_000, bodyTimeout: 60_000 });
    if (res.statusCode !== 200) throw new Error(`download: HTTP ${res.statusCode}`);
    if (mode === 'baseline') {
      await new Upload({ client, params: { Bucket: 'results', Key: key, Body: res.body } }).done();
    } else {
      await client.send(new PutObjectCommand({ Bucket: 'results', Key: key, Body: res.body, ContentLength: size }));
    }
    stored = size;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage();
  if (stored !== size) throw new Error(`stored ${stored} ${archive ? 'members' : 'bytes'} of ${size}`);
  reportResult(archive ? { mode, seconds, members: stored, perSecond: stored / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 } : { mode, seconds, bytes: stored, mbPerSecond: stored / 1024 / 1024 / seconds });
} catch (err) {
  // One line, last: the parent shows only the end of a failed child's output.
  process.stderr.write(`export failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await client.send(new DeleteObjectCommand({ Bucket: 'results', Key: key })).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
}
