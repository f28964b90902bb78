import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { TaskPool } from '../shared/concurrency';
import { silentLogger } from '../shared/log';
import { openDownload } from '../shared/pipeline/download';
import { exportResults, FILES_IN_FLIGHT, runExportTask } from '../shared/pipeline/export';
import { newRunRecord } from '../shared/run/start-run';
import { FileStateStore } from '../shared/state/file-state';
import { createS3Client } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import type { BatchTarget, OutputFile, OutputLocator } from '../shared/targets/port';
import { benchRunSpec, peakRss, reportResult, S3RVER_CREDENTIALS } from './lib';

/**
 * Many small result objects into the local S3 server. Usage: export-scale.ts <mode> <s3 endpoint> <url> <count>
 *   members: the export use case unpacking one .tar.gz of <count> small members (the byte service's
 *            `?members=N` archive) into as many objects (runExportTask)
 *   files:   the CLI export of <count> separate small result files, each downloaded from the byte
 *            service (exportResults: plan, copy FILES_IN_FLIGHT at a time, record each, finish: the
 *            results-by-key join lists the run folder); copySeconds is the time to the last object stored
 *   put:     the baseline: <count> PutObject requests of bodies of the same size held in memory,
 *            FILES_IN_FLIGHT at a time (no download, no state, no size check)
 */
const [mode = 'put', endpoint = '', url = '', countArg = '0'] = process.argv.slice(2);
const count = Number(countArg);
/** About the size of one of the byte service's archive members. */
const FILE_BYTES = 70;
const client = createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
const dest = new S3Store(client, 'results');
const stateDir = mkdtempSync(join(tmpdir(), 'bucket-bridge-bench-scale-'));
const spec = benchRunSpec({ dest: { scheme: 's3', bucket: 'results', prefix: `scale-${mode}/` } });
/** Pages of PAGE items made as they are asked for (a target lists its result files page by page too). */
const PAGE = 1000;
function* pagesOf<T>(count: number, item: (i: number) => T): Generator<T[]> {
  for (let start = 0; start < count; start += PAGE) yield Array.from({ length: Math.min(PAGE, count - start) }, (_, i) => item(start + i));
}

/** Only what export uses: a finished job whose result files are `files`, opened from their URLs. */
function resultsTarget(files: Iterable<OutputFile[]>): BatchTarget {
  return {
    jobOutcome: async () => ({ terminal: true, failed: false, outputBatches: ['job'] }),
    openOutput: (locator: OutputLocator, label: string) => openDownload((locator as { url: string }).url, label),
    async *outputFiles() {
      yield* files;
    },
  } as unknown as BatchTarget;
}

try {
  const state = new FileStateStore(stateDir);
  const run = { ...newRunRecord('bench-scale', spec), phase: 'exporting' as const, jobId: 'job', jobStarted: true, submissionComplete: true };
  await state.createRun(run);
  // The byte service builds an archive on its first request: not part of the copy.
  if (mode === 'members') await (await request(`${url}?members=${count}`, { reset: true })).body.dump({ limit: Number.POSITIVE_INFINITY });
  const started = performance.now();
  let stored = 0;
  // The copy ends when the last object is stored; the CLI export then joins the results to their
  // source keys (results-by-key: one listing of the run folder) and ends the run.
  let copied = 0;
  let copySeconds: number | undefined;
  let copyPeakRss: number | undefined;
  const progress = (stage: string, n: number) => {
    if (stage === 'exported-files' && (copied += n) === count) {
      copySeconds = (performance.now() - started) / 1000;
      copyPeakRss = peakRss();
    }
  };
  if (mode === 'members') {
    const deps = { dest, state, target: resultsTarget([]), log: silentLogger, progress };
    await runExportTask(deps, run.runId, { taskId: 't1', part: 'part-0', fileName: 'results.tar.gz', locator: { kind: 'url', url: `${url}?members=${count}` } }, { attempts: 1 });
  } else if (mode === 'files') {
    const files = pagesOf<OutputFile>(count, (i) => ({ partName: 'part-0', fileName: `img-${i}.json`, locator: { kind: 'url', url: `${url}?bytes=${FILE_BYTES}&i=${i}` } }));
    const result = await exportResults({ dest, state, target: resultsTarget(files), log: silentLogger, progress }, run.runId);
    if (result !== 'completed') throw new Error(`export ended ${result}: ${(await state.getRun(run.runId))?.error ?? 'no error recorded'}`);
  } else {
    const body = Buffer.alloc(FILE_BYTES, 120);
    const puts = new TaskPool(FILES_IN_FLIGHT);
    for (const page of pagesOf(count, (i) => () => client.send(new PutObjectCommand({ Bucket: 'results', Key: `scale-put/img-${i}.json`, Body: body, ContentLength: body.length })).then(() => stored++))) {
      await puts.add(page);
    }
    await puts.drain();
  }
  const seconds = (performance.now() - started) / 1000;
  if (mode !== 'put') {
    for await (const r of state.exportTaskResults(run.runId)) {
      if (r.failure) throw new Error(`export failed: ${r.failure.reason}`);
      stored += r.files;
    }
  }
  const cpu = process.cpuUsage();
  if (stored !== count) throw new Error(`stored ${stored} objects of ${count}`);
  // What the process still holds once garbage is collected (peak RSS is mostly garbage V8 had not collected yet).
  globalThis.gc?.();
  reportResult({
    mode,
    seconds,
    copySeconds: copySeconds ?? seconds,
    copyPeakRss,
    files: stored,
    perSecond: stored / seconds,
    copyPerSecond: stored / (copySeconds ?? seconds),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    liveHeap: process.memoryUsage().heapUsed,
  });
} catch (err) {
  // One line, last: the parent shows only the end of a failed child's output.
  process.stderr.write(`export-scale failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
