import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtendEmulator } from '../../sandbox/extend-emulator';
import { startLlamaCloudEmulator } from '../../sandbox/llamacloud-emulator';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { startLocalS3, type LocalS3Server } from '../../sandbox/s3-server';
import { silentLogger } from '../../shared/log';
import { referenceName } from '../../shared/pipeline/name';
import { noProgress } from '../../shared/progress';
import { csvRecords } from '../../shared/results/aggregated-rows';
import { NAMES_PER_PARTITION, writeResultsByKey, type ResultsByKeyLine } from '../../shared/results/results-by-key';
import type { BridgeDeps } from '../../shared/run/deps';
import { waitByPolling } from '../../shared/run/poll';
import { newRunRecord, startRun } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import type { RunSpec } from '../../shared/state/run-record';
import type { ObjectStore } from '../../shared/storage/port';
import { createS3Client } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { ExtendClient } from '../../shared/targets/extend/client';
import { ExtendTarget } from '../../shared/targets/extend/target';
import { LlamaCloudClient } from '../../shared/targets/llamacloud/client';
import { LlamaCloudTarget } from '../../shared/targets/llamacloud/target';
import { specFor, stackDeps, tempDir } from '../support/domain';
import { listObjects } from '../support/s3';

const IMAGES = ['cams/lot1/0001.jpg', 'cams/lot1/0002.jpg', 'cams/Lot1/0001.JPG', 'a/b.jpg', 'a__b.jpg', 'ünï cödé/photo 1.png', 'plus+sign/shot+1.webp', 'gone/vanished.jpg'];
const VANISHED = 'in/gone/vanished.jpg';
const DOCS = ['docs/a/invoice 1.pdf', 'docs/b/notes.txt', 'docs/c/broken.pdf'];

async function readLines<T = ResultsByKeyLine>(store: ObjectStore, key: string): Promise<T[]> {
  return (await text(await store.read(key))).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

const byKey = (lines: ResultsByKeyLine[]) => new Map(lines.map((l) => [l.source_key, l]));

/** The source, except that the signed URL of one key points at an object that does not exist. */
function withVanishedObject(store: ObjectStore, vanished: string): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'presignGet') return (key: string, o: { expiresInSeconds: number }) => target.presignGet(key === vanished ? `${key}.gone` : key, o);
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('results joined to their source objects (results-by-key.jsonl)', () => {
  describe('Roboflow', () => {
    let stack: LocalStack;
    const images = IMAGES.map((k) => `in/${k}`);

    beforeAll(async () => {
      stack = await startLocalStack({ buckets: ['rf-images'], emulator: { ingestDelayMs: 10, jobStageDelayMs: 10 } });
      for (const key of images) await stack.store('rf-images').write(key, Buffer.from(`\xff\xd8 fake image ${key}`));
    });
    afterAll(() => stack.close());

    async function runRoboflow(dest: string, overrides: Partial<RunSpec> = {}) {
      const deps = await stackDeps(stack, 'rf-images');
      deps.source = withVanishedObject(deps.source, VANISHED);
      const run = await startRun(deps, specFor('s3://rf-images/in/', `s3://rf-images/${dest}/`, overrides));
      const done = await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
      expect(done.phase, done.error).toBe('completed');
      return { deps, runId: run.runId, folder: `${dest}/${run.runId}/` };
    }

    it('names each object\'s result inside the unpacked export archives, and its ingest failure', async () => {
      const { folder } = await runRoboflow('archives');
      const lines = await readLines(stack.store('rf-images'), `${folder}results-by-key.jsonl`);
      expect(lines).toHaveLength(images.length);
      const lineOf = byKey(lines);
      for (const key of images.filter((k) => k !== VANISHED)) {
        const line = lineOf.get(key)!;
        expect(line).toMatchObject({ name: referenceName(key), status: 'exported', results: [expect.stringMatching(new RegExp(`^results-[12]/${escape(referenceName(key))}\\.json$`))] });
        if (line.status !== 'exported') throw new Error('unreachable');
        // The named result object exists and is that object's prediction.
        expect(JSON.parse(await text(await stack.store('rf-images').read(`${folder}${line.results[0]}`)))).toMatchObject({ name: referenceName(key) });
      }
      // Polling finds it missing from the staged batch.
      expect(lineOf.get(VANISHED)).toEqual({ source_key: VANISHED, name: referenceName(VANISHED), status: 'failed', stage: 'ingest', type: 'not-ingested', reason: expect.any(String) });
      // No aggregated output in this run: no prediction files.
      expect((await listObjects(stack.store('rf-images'), folder)).map((o) => o.key)).not.toContain(`${folder}predictions-by-key.jsonl`);
    });

    it('mirrors each result under by-key/<source key>.json with --results-layout mirror', async () => {
      const { folder } = await runRoboflow('mirrored', { resultsLayout: 'mirror' });
      const lineOf = byKey(await readLines(stack.store('rf-images'), `${folder}results-by-key.jsonl`));
      for (const key of images.filter((k) => k !== VANISHED)) {
        const line = lineOf.get(key)!;
        if (line.status !== 'exported') throw new Error(`${key} not exported`);
        expect(line.mirror).toEqual([`by-key/${key}.json`]);
        const [mirrored, original] = await Promise.all([
          text(await stack.store('rf-images').read(`${folder}by-key/${key}.json`)),
          text(await stack.store('rf-images').read(`${folder}${line.results[0]}`)),
        ]);
        expect(mirrored).toBe(original);
      }
      expect(await stack.store('rf-images').sizeOf(`${folder}by-key/${VANISHED}.json`)).toBeUndefined();
    });

    it('writes the aggregated JSONL prediction rows with their source_key when the job has no packing stage', async () => {
      stack.roboflow.setFaults({ exportStageName: null });
      try {
        const { folder } = await runRoboflow('aggregated-jsonl', { resultsLayout: 'mirror' });
        const lineOf = byKey(await readLines(stack.store('rf-images'), `${folder}results-by-key.jsonl`));
        const rows = await readLines<{ source_key: string | null; name: string; predictions: unknown[] }>(stack.store('rf-images'), `${folder}predictions-by-key.jsonl`);
        expect(rows).toHaveLength(images.length - 1);
        for (const row of rows) {
          expect(Object.keys(row)[0]).toBe('source_key');
          expect(referenceName(row.source_key!)).toBe(row.name);
          expect(lineOf.get(row.source_key!)).toMatchObject({ status: 'exported', results: ['results/results-0001.jsonl'], mirror: [`by-key/${row.source_key}.json`] });
          const mirrored = JSON.parse(await text(await stack.store('rf-images').read(`${folder}by-key/${row.source_key}.json`)));
          expect(mirrored).toEqual({ source_key: row.source_key, rows: [{ name: row.name, predictions: row.predictions }] });
        }
        expect(new Set(rows.map((r) => r.source_key))).toEqual(new Set(images.filter((k) => k !== VANISHED)));
      } finally {
        stack.roboflow.setFaults({});
      }
    });

    it('writes predictions-by-key.csv, a source_key column before the aggregated CSV rows', async () => {
      stack.roboflow.setFaults({ exportStageName: null });
      try {
        const { folder } = await runRoboflow('aggregated-csv', { target: { name: 'roboflow', workspace: SANDBOX_WORKSPACE, workflowId: SANDBOX_WORKFLOW, job: { aggregationFormat: 'csv' } } });
        const records = [];
        for await (const r of csvRecords(Readable.from([await text(await stack.store('rf-images').read(`${folder}predictions-by-key.csv`))]))) records.push(r.fields);
        expect(records[0]).toEqual(['source_key', 'name', 'predictions']);
        const rows = records.slice(1);
        expect(rows).toHaveLength(images.length - 1);
        for (const [key, name, predictions] of rows) {
          expect(referenceName(key!)).toBe(name);
          expect(Array.isArray(JSON.parse(predictions!))).toBe(true);
        }
        const lineOf = byKey(await readLines(stack.store('rf-images'), `${folder}results-by-key.jsonl`));
        expect(lineOf.get(images[0]!)).toMatchObject({ status: 'exported', results: ['results/results-0001.csv'] });
        expect(lineOf.get(VANISHED)).toMatchObject({ status: 'failed', stage: 'ingest' });
      } finally {
        stack.roboflow.setFaults({});
      }
    });
  });

  describe('document targets', () => {
    let s3: LocalS3Server;
    let store: S3Store;
    let hostileStore: S3Store;

    beforeAll(async () => {
      s3 = await startLocalS3({ buckets: ['docs', 'hostile'] });
      store = new S3Store(createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials }), 'docs');
      hostileStore = new S3Store(createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials }), 'hostile');
      for (const key of DOCS) await store.write(key, `%PDF-1.7 fake content of ${key}\n`);
    });
    afterAll(() => s3.close());

    async function expectJoined(runId: string, dest: string, extension: string) {
      const lineOf = byKey(await readLines(store, `${dest}/${runId}/results-by-key.jsonl`));
      expect(lineOf.size).toBe(DOCS.length);
      for (const key of DOCS.slice(0, 2)) {
        expect(lineOf.get(key)).toEqual({ source_key: key, name: referenceName(key), status: 'exported', results: [`results/${referenceName(key)}${extension}`] });
        expect(await store.sizeOf(`${dest}/${runId}/results/${referenceName(key)}${extension}`)).toBeGreaterThan(0);
      }
      expect(lineOf.get('docs/c/broken.pdf')).toMatchObject({ status: 'failed', stage: 'export', reason: expect.any(String) });
    }

    it('Extend: results/<name>.json per object, the failed input with its reason', async () => {
      const emu = await startExtendEmulator({ apiKey: 'extend-key', runDelayMs: 5, faults: { failUrlsMatching: /broken/ } });
      try {
        const client = new ExtendClient({ apiKey: 'extend-key', apiUrl: emu.url, retry: { baseDelayMs: 5, maxDelayMs: 50 } });
        const deps: BridgeDeps = {
          source: store, dest: store, state: new FileStateStore(await tempDir('bb-rbk-extend-')),
          target: new ExtendTarget(client, { kind: 'extract', id: 'ex_emulated' }, emu.signingSecret),
          log: silentLogger, progress: noProgress, chunkSize: 2,
        };
        const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/extend-out/', { media: 'documents', target: { name: 'extend', processor: { kind: 'extract', id: 'ex_emulated' } } }));
        await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
        await expectJoined(run.runId, 'extend-out', '.json');
        // Extend's own combined results file is not a per-object result.
        expect((await readLines(store, `extend-out/${run.runId}/results.jsonl`)).length).toBe(2);
      } finally {
        await emu.close();
      }
    });

    it('LlamaCloud: results/<name>.md per object, the failed file job with its reason', async () => {
      const emu = await startLlamaCloudEmulator({ apiKey: 'llx-test', jobDelayMs: 5, faults: { failFilesNamed: /broken/ } });
      try {
        const client = new LlamaCloudClient({ apiKey: 'llx-test', apiUrl: emu.url, retry: { baseDelayMs: 5, maxDelayMs: 50 } });
        const deps: BridgeDeps = {
          source: store, dest: store, state: new FileStateStore(await tempDir('bb-rbk-llama-')),
          target: new LlamaCloudTarget(client, { job: { type: 'parse_v2', configurationId: 'cfg-PARSE_AGENTIC' }, uploadConcurrency: 2 }),
          log: silentLogger, progress: noProgress, chunkSize: 2,
        };
        const run = await startRun(deps, specFor('s3://docs/docs/', 's3://docs/llama-out/', { media: 'documents', target: { name: 'llamacloud', jobType: 'parse_v2', configurationId: 'cfg-PARSE_AGENTIC' } }));
        await waitByPolling(deps, run.runId, { intervalMs: 20, timeoutMs: 20_000 });
        await expectJoined(run.runId, 'llama-out', '.md');
      } finally {
        await emu.close();
      }
    });

    it('keeps hostile source keys inside by-key/ in the mirror layout, one distinct object per key', async () => {
      const hostile = ['../escape.json', '../../etc/passwd', '/absolute/key.jpg', 'a//double.jpg', './dot.jpg', 'trailing/', 'ctrl\u0001\u001b[31m.jpg', 'back\\slash\\..\\x.jpg', '%2E%2E/encoded.jpg', '..', 'a/../../b.jpg', 'x'.repeat(1100)];
      const state = new FileStateStore(await tempDir('bb-rbk-hostile-'));
      const run = { ...newRunRecord('hostile', specFor('s3://hostile/in/', 's3://hostile/hostile-out/', { resultsLayout: 'mirror' })), listed: hostile.length, submitted: hostile.length };
      await state.createRun(run);
      await state.appendNames('hostile', hostile.map((key) => ({ name: referenceName(key), key })));
      for (const key of hostile) await hostileStore.write(`hostile-out/hostile/p/${referenceName(key)}.json`, JSON.stringify({ key }));

      const counts = await writeResultsByKey({ dest: hostileStore, state, log: silentLogger }, run);
      expect(counts).toMatchObject({ objects: hostile.length, exported: hostile.length });
      const lines = await readLines(hostileStore, 'hostile-out/hostile/results-by-key.jsonl');
      const mirrors = lines.map((l) => (l.status === 'exported' ? l.mirror ?? [] : [])).flat();
      expect(new Set(mirrors).size).toBe(hostile.length);
      for (const m of mirrors) {
        expect(m.startsWith('by-key/')).toBe(true);
        expect(m.split('/')).not.toContain('..');
        expect(m.split('/')).not.toContain('.');
        expect(m.split('/')).not.toContain('');
        expect(m).not.toMatch(/[\u0000-\u001f\\]/);
        expect(Buffer.byteLength(`hostile-out/hostile/${m}`)).toBeLessThanOrEqual(1024);
      }
      // Every mirror holds its own object's result, and nothing was written outside the run folder.
      for (const l of lines) {
        if (l.status !== 'exported') throw new Error(`${l.source_key} not exported`);
        expect(JSON.parse(await text(await hostileStore.read(`hostile-out/hostile/${l.mirror![0]}`)))).toEqual({ key: l.source_key });
      }
      const all = (await listObjects(hostileStore, '')).map((o) => o.key);
      expect(all.filter((k) => !k.startsWith('hostile-out/hostile/'))).toEqual([]);
      expect(mirrors).toContain('by-key/%2E%2E/escape.json.json');
      expect(mirrors).toContain('by-key/%2F/absolute/key.jpg.json');
      expect(mirrors).toContain('by-key/ctrl%01%1B[31m.jpg.json');
      expect(mirrors).toContain('by-key/%252E%252E/encoded.jpg.json');
      expect(mirrors.some((m) => /^by-key\/%long\/[0-9a-f]{64}\.json$/.test(m))).toBe(true);
    });

    it('joins across several partitions: every name once, with its own result or failure', async () => {
      const state = new FileStateStore(await tempDir('bb-rbk-parts-'));
      // The partition count follows the objects listed: three partitions for this run.
      const run = { ...newRunRecord('parts', specFor('s3://docs/in/', 's3://docs/parts-out/')), listed: 2 * NAMES_PER_PARTITION + 1, submitted: 300 };
      await state.createRun(run);
      const keys = Array.from({ length: 300 }, (_, i) => `k/${i}.jpg`);
      await state.appendNames('parts', keys.map((key) => ({ name: referenceName(key), key })));
      for (const key of keys.slice(0, 100)) await store.write(`parts-out/parts/p/${referenceName(key)}.json`, '{}');
      await state.recordFailures('parts', keys.slice(100, 150).map((key) => ({ name: referenceName(key), key, stage: 'ingest', type: 'file-download-failed', reason: 'gone' })));
      const counts = await writeResultsByKey({ dest: store, state, log: silentLogger }, run);
      expect(counts).toEqual({ objects: 300, exported: 100, failed: 50, noResult: 150, predictionRows: 0, partitions: 3 });
      const lineOf = byKey(await readLines(store, 'parts-out/parts/results-by-key.jsonl'));
      expect(lineOf.size).toBe(300);
      keys.forEach((key, i) => expect(lineOf.get(key)!.status).toBe(i < 100 ? 'exported' : i < 150 ? 'failed' : 'no-result'));
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
