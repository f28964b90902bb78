import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startRoboflowEmulator, type EmulatorOptions, type RunningEmulator } from '../../sandbox/roboflow-emulator/index';

const API_KEY = 'test-key-5f1c';
const WORKSPACE = 'acme';
const WORKSPACE_ID = 'ws-internal-42';
const DS = `/data-staging/v1/external/${WORKSPACE}`;
const BP = `/batch-processing/v1/external/${WORKSPACE}`;
const WAIT_MS = 10_000;

// ---------- local fixture server: images, reference files, webhook receiver ----------

interface Hook {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

interface Fixture {
  url: string;
  hooks: Hook[];
  /** GET count per path (no query). */
  hits: Map<string, number>;
  refsFiles: Map<string, string>;
  /** Webhook paths that answer 500 to their first N deliveries. */
  failHooks: Map<string, number>;
  close(): Promise<void>;
}

const imageBytes = (name: string, size = 64) => Buffer.alloc(size, `img:${name};`);

async function startFixture(): Promise<Fixture> {
  const hooks: Hook[] = [];
  const hits = new Map<string, number>();
  const refsFiles = new Map<string, string>();
  const failHooks = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://fixture');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'POST' && url.pathname.startsWith('/hooks/')) {
      hooks.push({ path: url.pathname, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      const failures = failHooks.get(url.pathname) ?? 0;
      if (failures > 0) failHooks.set(url.pathname, failures - 1);
      res.writeHead(failures > 0 ? 500 : 204).end();
      return;
    }
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const [, kind, name] = url.pathname.split('/');
    if (kind === 'img') {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(imageBytes(name!));
    } else if (kind === 'big') {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(imageBytes(name!, 50_000));
    } else if (kind === 'refs' && refsFiles.has(name!)) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(refsFiles.get(name!));
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hooks,
    hits,
    refsFiles,
    failHooks,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------- helpers ----------

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra: Partial<EmulatorOptions> = {}): Promise<{ emu: RunningEmulator; fx: Fixture }> {
  const fx = await startFixture();
  cleanups.push(fx.close);
  const emu = await startRoboflowEmulator({
    apiKey: API_KEY,
    workspace: WORKSPACE,
    workspaceId: WORKSPACE_ID,
    ingestDelayMs: 10,
    jobStageDelayMs: 40,
    maxImageBytes: 10_000,
    ...extra,
  });
  cleanups.push(emu.close);
  return { emu, fx };
}

function apiUrl(emu: RunningEmulator, path: string, query: Record<string, string> = {}, apiKey: string | null = API_KEY): string {
  const url = new URL(path, emu.url);
  if (apiKey !== null) url.searchParams.set('api_key', apiKey);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.toString();
}

async function get(emu: RunningEmulator, path: string, query: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(apiUrl(emu, path, query));
  return { status: res.status, body: await res.json() };
}

async function post(emu: RunningEmulator, path: string, body: unknown, query: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(apiUrl(emu, path, query), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function collectPages(emu: RunningEmulator, path: string, key: string, query: Record<string, string> = {}) {
  const items: any[] = [];
  const tokens: Array<string | null | undefined> = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const { status, body } = await get(emu, path, token ? { ...query, nextPageToken: token } : query);
    expect(status).toBe(200);
    items.push(...body[key]);
    tokens.push(body.nextPageToken);
    if (!body.nextPageToken) return { items, tokens };
    token = body.nextPageToken;
  }
  throw new Error('pagination did not terminate');
}

function inlineRefs(fx: Fixture, prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${String(i).padStart(3, '0')}.jpg`, url: `${fx.url}/img/${prefix}-${i}.jpg?sig=abc` }));
}

async function ingestAndWait(emu: RunningEmulator, fx: Fixture, batchId: string, n: number): Promise<string[]> {
  const refs = inlineRefs(fx, batchId, n);
  const res = await post(emu, `${DS}/batches/${batchId}/bulk-upload/image-references`, { imageReferences: refs }, { displayName: batchId });
  expect(res.status).toBe(200);
  await waitFor('ingest', async () => ((await get(emu, `${DS}/batches/${batchId}/count`)).body.count === n ? true : undefined));
  return refs.map((r) => r.name);
}

const jobBody = (batchId: string, workflowId = 'count-cars', extra: Record<string, unknown> = {}) => ({
  type: 'simple-image-processing-v1',
  jobInput: { type: 'staging-batch-input-v1', batchId },
  computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 2 },
  processingTimeoutSeconds: 3600,
  processingSpecification: { type: 'workflows-processing-specification-v1', workspace: WORKSPACE, workflowId, aggregationFormat: 'jsonl' },
  ...extra,
});

async function waitTerminal(emu: RunningEmulator, jobId: string): Promise<any> {
  return waitFor(`job ${jobId} terminal`, async () => {
    const { body } = await get(emu, `${BP}/jobs/${jobId}`);
    return body.job?.isTerminal ? body.job : undefined;
  });
}

async function tarMembers(archive: Buffer): Promise<Map<string, string>> {
  const extract = tar.extract();
  const members = new Map<string, string>();
  const reading = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(Buffer.from(c as Uint8Array));
      members.set(entry.header.name, Buffer.concat(chunks).toString('utf8'));
    }
  })();
  extract.end(gunzipSync(archive));
  await reading;
  return members;
}

// ---------- tests ----------

describe('roboflow emulator: auth and request validation', () => {
  it('rejects a wrong or missing api_key with 401 and redacts the key in recorded requests', async () => {
    const { emu } = await setup();
    for (const key of ['wrong-key', null]) {
      const res = await fetch(apiUrl(emu, `${DS}/batches`, {}, key));
      expect(res.status).toBe(401);
      expect(typeof ((await res.json()) as any).error).toBe('string');
    }
    expect((await get(emu, `${DS}/batches`)).status).toBe(200);
    expect((await get(emu, `/data-staging/v1/external/other-ws/batches`)).status).toBe(404);
    expect(emu.requests.map((r) => r.status)).toEqual([401, 401, 200, 404]);
    expect(JSON.stringify(emu.requests)).not.toContain(API_KEY);
  });

  it('returns 400 for bad batch ids, bad job ids and mis-cased or ambiguous bodies', async () => {
    const { emu, fx } = await setup();
    const refs = inlineRefs(fx, 'v', 1);
    const cases: Array<[string, unknown]> = [
      [`${DS}/batches/Bad_Batch/bulk-upload/image-references`, { imageReferences: refs }],
      [`${DS}/batches/${'a'.repeat(65)}/bulk-upload/image-references`, { imageReferences: refs }],
      [`${DS}/batches/ok-batch/bulk-upload/image-references`, { imageReferencesUrl: `${fx.url}/refs/x.jsonl` }],
      [`${DS}/batches/ok-batch/bulk-upload/image-references`, { imageReferences: refs, notificationsUrl: `${fx.url}/hooks/a` }],
      [`${DS}/batches/ok-batch/bulk-upload/image-references`, { imageReferences: refs, imageReferencesURL: `${fx.url}/refs/x.jsonl` }],
      [`${DS}/batches/ok-batch/bulk-upload/image-references`, {}],
      [`${DS}/batches/ok-batch/bulk-upload/video-references`, { imageReferences: refs }],
      [`${BP}/jobs/${'j'.repeat(21)}`, jobBody('ok-batch')],
      [`${BP}/jobs/Job1`, jobBody('ok-batch')],
      [`${BP}/jobs/job1`, { ...jobBody('ok-batch'), notificationsUrl: `${fx.url}/hooks/j` }],
    ];
    for (const [path, body] of cases) {
      const res = await post(emu, path, body);
      expect(res.status, path).toBe(400);
      expect(typeof res.body.error).toBe('string');
    }
    expect((await get(emu, `${DS}/batches/UPPER/count`)).status).toBe(400);
    expect((await get(emu, `${DS}/batches/ok-batch/count`)).status).toBe(404);
    expect((await get(emu, `${BP}/jobs/missing-job`)).status).toBe(404);
    // nothing was created by the rejected requests
    expect((await get(emu, `${DS}/batches`)).body.batches).toEqual([]);
    expect(emu.jobsStarted()).toEqual([]);
  });
});

describe('roboflow emulator: reference ingest', () => {
  it('ingests by imageReferencesURL, fetching every URL, and reports per-file failures and ingest status', async () => {
    const { emu, fx } = await setup();
    const good = Array.from({ length: 6 }, (_, i) => ({ name: `cam__${i}.jpg`, url: `${fx.url}/img/cam-${i}.jpg?X-Amz-Signature=s3cr3t` }));
    const lines = [
      ...good,
      { name: 'missing.jpg', url: `${fx.url}/missing/m.jpg?X-Amz-Signature=s3cr3t` },
      { name: 'huge.jpg', url: `${fx.url}/big/h.jpg` },
      { name: 'cam__0.jpg', url: `${fx.url}/img/dupe.jpg` },
    ];
    fx.refsFiles.set('r1.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    const res = await post(
      emu,
      `${DS}/batches/run-1/bulk-upload/image-references`,
      {
        imageReferencesURL: `${fx.url}/refs/r1.jsonl?sig=1`,
        ingestId: 'run-1-0',
        notificationsURL: `${fx.url}/hooks/ingest`,
        notificationCategories: ['ingest-status', 'files-status'],
      },
      { displayName: 'Run one' },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ingestId: 'run-1-0', duplicated: false });
    expect(Array.isArray(res.body.shardIds)).toBe(true);

    const hooks = await waitFor('two webhooks', () => (fx.hooks.length >= 2 ? fx.hooks : undefined));
    const [filesStatus, ingestStatus] = hooks.map((h) => h.body);
    expect(filesStatus).toMatchObject({
      type: 'roboflow-data-staging-notification-v1',
      ingest_id: 'run-1-0',
      batch_id: 'run-1',
      delivery_attempt: 1,
      notification: { type: 'ingest-files-status-notification-v1', success: true, content_truncated: false },
    });
    expect(typeof filesStatus.shard_id).toBe('string');
    expect([...filesStatus.notification.ingested_files].sort()).toEqual(good.map((g) => g.name).sort());
    const failed = Object.fromEntries(filesStatus.notification.failed_files.map((f: any) => [f.file_name, f]));
    expect(failed['missing.jpg'].type).toBe('file-download-failed');
    expect(failed['missing.jpg'].reason).toContain('404');
    expect(failed['huge.jpg'].type).toBe('file-size-limit-exceeded');
    expect(failed['cam__0.jpg']).toBeDefined();
    expect(JSON.stringify(filesStatus)).not.toContain('s3cr3t');
    expect(ingestStatus).toMatchObject({
      type: 'roboflow-data-staging-notification-v1',
      shard_id: null,
      notification: { type: 'ingest-status-notification-v1', success: true },
    });
    expect(ingestStatus.event_id).not.toBe(filesStatus.event_id);
    expect(hooks[0]!.headers.authorization).toBe(`Bearer rf_${WORKSPACE_ID}`);

    // every reference URL was really downloaded once (the duplicate name was not fetched)
    expect(fx.hits.get('/refs/r1.jsonl')).toBe(1);
    for (let i = 0; i < 6; i++) expect(fx.hits.get(`/img/cam-${i}.jpg`)).toBe(1);
    expect(fx.hits.get('/missing/m.jpg')).toBe(1);
    expect(fx.hits.get('/img/dupe.jpg')).toBeUndefined();

    expect((await get(emu, `${DS}/batches/run-1/count`)).body).toEqual({ count: 6 });
    const meta = (await get(emu, `${DS}/batches/run-1`)).body.batch;
    expect(meta).toMatchObject({ batchId: 'run-1', displayName: 'Run one', batchType: 'sharded-batch', batchContentType: 'images' });

    // three more ingests -> four shards -> two pages at pageSize 3
    for (const n of [1, 2, 3]) {
      const r = await post(emu, `${DS}/batches/run-1/bulk-upload/image-references`, { imageReferences: inlineRefs(fx, `extra${n}`, 2) });
      expect(r.status).toBe(200);
      expect(r.body.shardIds).toHaveLength(1);
    }
    await waitFor('count 12', async () => ((await get(emu, `${DS}/batches/run-1/count`)).body.count === 12 ? true : undefined));
    await waitFor('all shards completed', async () => {
      const { items } = await collectPages(emu, `${DS}/batches/run-1/shards`, 'shards');
      return items.every((s) => s.statusType === 'success') ? true : undefined;
    });
    const { items: shards, tokens } = await collectPages(emu, `${DS}/batches/run-1/shards`, 'shards');
    expect(shards).toHaveLength(4);
    expect(tokens).toHaveLength(2);
    expect(typeof tokens[0]).toBe('string');
    expect(tokens[1]).toBeNull();
    expect(shards[0]).toMatchObject({ statusName: 'shard-ingest-completed', statusType: 'success', shardObjectsCount: 6 });
    expect(shards[0].shardId).toBe(filesStatus.shard_id);
    expect((await get(emu, `${DS}/batches/run-1/shards`, { nextPageToken: 'garbage' })).status).toBe(400);

    // input batches list their items by reference name; download URLs serve the fetched bytes
    const { items: files } = await collectPages(emu, `${DS}/batches/run-1/list`, 'filesMetadata');
    expect(files).toHaveLength(12);
    const cam3 = files.find((f) => f.fileName === 'cam__3.jpg')!;
    expect(cam3).toMatchObject({ contentType: 'image', partName: null, shardId: filesStatus.shard_id });
    const bytes = Buffer.from(await (await fetch(cam3.downloadURL)).arrayBuffer());
    expect(bytes.equals(imageBytes('cam-3.jpg'))).toBe(true);
  });

  it('answers duplicated:true for a repeated ingestId without re-ingesting', async () => {
    const { emu, fx } = await setup();
    const body = { imageReferences: inlineRefs(fx, 'dup', 3), ingestId: 'dup-0' };
    const first = await post(emu, `${DS}/batches/dup/bulk-upload/image-references`, body);
    expect(first.body).toMatchObject({ ingestId: 'dup-0', duplicated: false });
    await waitFor('count 3', async () => ((await get(emu, `${DS}/batches/dup/count`)).body.count === 3 ? true : undefined));
    const second = await post(emu, `${DS}/batches/dup/bulk-upload/image-references`, body);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ ingestId: 'dup-0', duplicated: true });
    await new Promise((r) => setTimeout(r, 100));
    expect((await get(emu, `${DS}/batches/dup/count`)).body.count).toBe(3);
    expect(fx.hits.get('/img/dup-0.jpg')).toBe(1);
    expect((await get(emu, `${DS}/batches/dup/shards`)).body.shards).toHaveLength(1);
  });

  it('fails the whole ingest with unsafe-url-detected for an untrusted host', async () => {
    const { emu, fx } = await setup();
    const refs = [...inlineRefs(fx, 'u', 2), { name: 'evil.jpg', url: 'https://untrusted.example.com/a.jpg?token=zzz' }];
    await post(emu, `${DS}/batches/unsafe/bulk-upload/image-references`, { imageReferences: refs, notificationsURL: `${fx.url}/hooks/u` });
    const hook = await waitFor('ingest-status', () => fx.hooks[0]);
    expect(hook.body.notification).toMatchObject({ type: 'ingest-status-notification-v1', success: false, error_details: { type: 'unsafe-url-detected' } });
    expect(hook.body.notification.error_details.reason).not.toContain('zzz');
    const shards = (await get(emu, `${DS}/batches/unsafe/shards`)).body.shards;
    expect(shards.every((s: any) => s.statusType.includes('error'))).toBe(true);
    expect((await get(emu, `${DS}/batches/unsafe/count`)).body.count).toBe(0);
    expect(fx.hits.size).toBe(0);
  });
});

describe('roboflow emulator: jobs and export', () => {
  it('runs a job to completion and exports multipart .tar.gz archives behind signed URLs', async () => {
    const { emu, fx } = await setup();
    const names = await ingestAndWait(emu, fx, 'in-1', 25);
    const body = jobBody('in-1', 'count-cars', { notificationsURL: `${fx.url}/hooks/job` });

    expect((await post(emu, `${BP}/jobs/job-1`, body, { name: 'First job' })).status).toBe(200);
    expect((await post(emu, `${BP}/jobs/job-1`, structuredClone(body), { name: 'First job' })).status).toBe(200);
    const changed = await post(emu, `${BP}/jobs/job-1`, { ...body, maxParallelTasks: 4 });
    expect(changed.status).toBe(409);
    expect(typeof changed.body.error).toBe('string');
    expect(emu.jobsStarted()).toEqual(['job-1']);

    const job = await waitTerminal(emu, 'job-1');
    expect(job).toMatchObject({ jobId: 'job-1', name: 'First job', error: false, isTerminal: true, plannedStages: ['processing', 'export'] });
    expect(job.jobDefinition).toEqual(body);

    const stages = (await get(emu, `${BP}/jobs/job-1/stages`)).body.stages;
    expect(stages.map((s: any) => s.processingStageName)).toEqual(['processing', 'export']);
    expect(stages.every((s: any) => s.statusType === 'success')).toBe(true);
    const exportBatchId: string = stages[1].outputBatches[0];
    expect(exportBatchId).toBe('job-1-export');
    const tasks = await collectPages(emu, `${BP}/jobs/job-1/stages/${stages[0].processingStageId}/tasks`, 'tasks');
    expect(tasks.items.length).toBe(stages[0].tasksNumber);

    const hook = await waitFor('job webhook', () => fx.hooks.find((h) => h.path === '/hooks/job'));
    expect(hook.body).toMatchObject({ type: 'roboflow-batch-job-notification-v1', job_id: 'job-1', job_state: 'success', delivery_attempt: 1 });

    expect((await get(emu, `${DS}/batches/${exportBatchId}`)).body.batch.batchType).toBe('multipart-batch');
    const parts = (await get(emu, `${DS}/batches/${exportBatchId}/parts`)).body.batchParts;
    expect(parts.length).toBeGreaterThanOrEqual(2);

    const whole = await collectPages(emu, `${DS}/batches/${exportBatchId}/list`, 'filesMetadata');
    expect(whole.tokens.length).toBeGreaterThan(1);
    expect(typeof whole.tokens[0]).toBe('string');

    const members = new Map<string, string>();
    let perPartTotal = 0;
    for (const part of parts) {
      const { items } = await collectPages(emu, `${DS}/batches/${exportBatchId}/list`, 'filesMetadata', { partName: part.partName });
      expect(items.length).toBeGreaterThan(0);
      expect((await get(emu, `${DS}/batches/${exportBatchId}/count`, { partName: part.partName })).body.count).toBe(items.length);
      perPartTotal += items.length;
      for (const file of items) {
        expect(file.partName).toBe(part.partName);
        expect(file.fileName).toMatch(/\.tar\.gz$/);
        const res = await fetch(file.downloadURL);
        expect(res.status).toBe(200);
        for (const [name, text] of await tarMembers(Buffer.from(await res.arrayBuffer()))) {
          expect(members.has(name)).toBe(false);
          members.set(name, text);
        }
      }
    }
    expect(perPartTotal).toBe(whole.items.length);
    expect([...members.keys()].sort()).toEqual(names.map((n) => `${n}.json`).sort());
    expect(JSON.parse(members.get(`${names[0]}.json`)!)).toMatchObject({ name: names[0], predictions: expect.any(Array) });

    // processing output: aggregated JSONL with one line per item
    const processing = await collectPages(emu, `${DS}/batches/job-1-processing/list`, 'filesMetadata');
    const jsonl = await (await fetch(processing.items[0].downloadURL)).text();
    expect(jsonl.trim().split('\n')).toHaveLength(25);

    // signed URLs: tampering or dropping the signature is refused
    const signed = new URL(whole.items[0].downloadURL);
    const sig = signed.searchParams.get('signature')!;
    signed.searchParams.set('signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    expect((await fetch(signed)).status).toBe(403);
    signed.searchParams.delete('signature');
    expect((await fetch(signed)).status).toBe(403);
    const expired = new URL(whole.items[0].downloadURL);
    expired.searchParams.set('expires', '1000');
    expect((await fetch(expired)).status).toBe(403);

    const listed = await collectPages(emu, `${BP}/jobs`, 'jobs');
    expect(listed.items.map((j) => j.jobId)).toEqual(['job-1']);
    const errors = (await get(emu, `${BP}/jobs/job-1/logs`, { severity: 'error' })).body.logs;
    expect(errors).toEqual([]);
    expect((await get(emu, `${BP}/jobs/job-1/logs`, { severity: 'loud' })).status).toBe(400);
  });

  it('ends a fail-workflow job with error:true and job_state fail, without export output', async () => {
    const { emu, fx } = await setup();
    await ingestAndWait(emu, fx, 'in-f', 2);
    const res = await post(emu, `${BP}/jobs/job-f`, jobBody('in-f', 'fail-workflow', { notificationsURL: `${fx.url}/hooks/jf` }));
    expect(res.status).toBe(200);
    const job = await waitTerminal(emu, 'job-f');
    expect(job).toMatchObject({ error: true, isTerminal: true });
    const hook = await waitFor('job webhook', () => fx.hooks[0]);
    expect(hook.body).toMatchObject({ job_id: 'job-f', job_state: 'fail' });
    const stages = (await get(emu, `${BP}/jobs/job-f/stages`)).body.stages;
    expect(stages).toHaveLength(1);
    expect(stages[0].statusType).toContain('error');
    expect((await get(emu, `${DS}/batches/job-f-export`)).status).toBe(404);
    expect((await get(emu, `${BP}/jobs/job-f/logs`, { severity: 'error' })).body.logs.length).toBeGreaterThan(0);
  });

  it('aborts a running job and restarts it with parameter overrides', async () => {
    const { emu, fx } = await setup({ jobStageDelayMs: 300 });
    await ingestAndWait(emu, fx, 'in-a', 3);
    expect((await post(emu, `${BP}/jobs/job-a`, jobBody('in-a', 'count-cars', { notificationsURL: `${fx.url}/hooks/ja` }))).status).toBe(200);
    expect((await post(emu, `${BP}/jobs/job-a/restart`, undefined)).status).toBe(409); // still running
    const running = (await get(emu, `${BP}/jobs/job-a`)).body.job;
    expect(running).toMatchObject({ isTerminal: false, currentStage: 'processing' });
    expect((await get(emu, `${BP}/jobs/job-a/stages`)).body.stages[0].statusType).toBe('info');

    expect((await post(emu, `${BP}/jobs/job-a/abort`, undefined)).status).toBe(200);
    expect((await get(emu, `${BP}/jobs/job-a`)).body.job).toMatchObject({ isTerminal: true, error: true });
    expect((await post(emu, `${BP}/jobs/job-a/abort`, undefined)).status).toBe(200); // idempotent
    expect((await waitFor('abort webhook', () => fx.hooks[0])).body.job_state).toBe('fail');

    const override = { type: 'parameters-override-v1', maxParallelTasks: 2 };
    expect((await post(emu, `${BP}/jobs/job-a/restart`, { ...override, bogus: 1 })).status).toBe(400);
    expect((await post(emu, `${BP}/jobs/job-a/restart`, override)).status).toBe(200);
    const job = await waitTerminal(emu, 'job-a');
    expect(job).toMatchObject({ error: false, restartParametersOverride: [override] });
    expect(emu.jobsStarted()).toEqual(['job-a']);
    expect((await get(emu, `${DS}/batches/job-a-export/count`)).body.count).toBeGreaterThan(0);
  });

  it('ingests video references and runs a video job on them', async () => {
    const { emu, fx } = await setup();
    const refs = [1, 2].map((i) => ({ name: `clip-${i}.mp4`, url: `${fx.url}/img/clip-${i}.mp4` }));
    const res = await post(emu, `${DS}/batches/vids/bulk-upload/video-references`, { videoReferences: refs, ingestId: 'v-0' });
    expect(res.body).toEqual({ ingestId: 'v-0', duplicated: false });
    await waitFor('videos', async () => ((await get(emu, `${DS}/batches/vids/count`)).body.count === 2 ? true : undefined));
    expect((await get(emu, `${DS}/batches/vids`)).body.batch.batchContentType).toBe('videos');
    expect((await post(emu, `${BP}/jobs/vid-img`, jobBody('vids'))).status).toBe(400);
    const videoJob = {
      ...jobBody('vids'),
      type: 'simple-video-processing-v1',
      processingSpecification: { type: 'workflows-processing-specification-v1', workspace: WORKSPACE, workflowId: 'w', maxVideoFPS: 5 },
    };
    expect((await post(emu, `${BP}/jobs/vid-job`, videoJob)).status).toBe(200);
    expect(await waitTerminal(emu, 'vid-job')).toMatchObject({ error: false });
  });

  it('rejects jobs on a missing or empty input batch', async () => {
    const { emu, fx } = await setup();
    expect((await post(emu, `${BP}/jobs/job-x`, jobBody('nope'))).status).toBe(404);
    const refs = [{ name: 'gone.jpg', url: `${fx.url}/missing/gone.jpg` }];
    await post(emu, `${DS}/batches/empty/bulk-upload/image-references`, { imageReferences: refs });
    await waitFor('shard done', async () => ((await get(emu, `${DS}/batches/empty/shards`)).body.shards[0]?.statusType === 'success' ? true : undefined));
    const res = await post(emu, `${BP}/jobs/job-x`, jobBody('empty'));
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('no ingested items');
    expect(emu.jobsStarted()).toEqual([]);
  });
});

describe('roboflow emulator: faults and webhook delivery', () => {
  it('injects a 429 with Retry-After, then answers normally', async () => {
    const { emu } = await setup({ faults: { failures: [{ pathIncludes: '/batches', method: 'GET', status: 429, count: 1, retryAfterSeconds: 2 }] } });
    const first = await fetch(apiUrl(emu, `${DS}/batches`));
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(((await first.json()) as any).error).toEqual(expect.any(String));
    expect((await get(emu, `${DS}/batches`)).status).toBe(200);

    emu.setFaults({ failures: [{ pathIncludes: '/jobs/', method: 'POST', status: 503, count: 2 }] });
    expect((await get(emu, `${BP}/jobs/abc`)).status).toBe(404); // GET is not targeted
    const a = await fetch(apiUrl(emu, `${BP}/jobs/abc`), { method: 'POST', body: '{}' });
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('0');
    expect((await post(emu, `${BP}/jobs/abc`, {})).status).toBe(503);
    expect((await post(emu, `${BP}/jobs/abc`, {})).status).toBe(400);
    expect(emu.requests.map((r) => r.status)).toEqual([429, 200, 404, 503, 503, 400]);
  });

  it('delivers every webhook twice with the same event_id when duplicateDeliveries is on', async () => {
    const { emu, fx } = await setup();
    emu.setFaults({ duplicateDeliveries: true });
    await post(emu, `${DS}/batches/dd/bulk-upload/image-references`, { imageReferences: inlineRefs(fx, 'dd', 2), notificationsURL: `${fx.url}/hooks/dd` });
    const hooks = await waitFor('two deliveries', () => (fx.hooks.length >= 2 ? fx.hooks : undefined));
    await new Promise((r) => setTimeout(r, 100));
    expect(fx.hooks).toHaveLength(2);
    expect(hooks[0]!.body.event_id).toBe(hooks[1]!.body.event_id);
    expect(hooks.map((h) => h.body.delivery_attempt)).toEqual([1, 2]);
    expect(emu.webhookDeliveries.map((d) => d.status)).toEqual([204, 204]);
  });

  it('retries a failed delivery with the same event_id and the next delivery_attempt', async () => {
    const { emu, fx } = await setup();
    fx.failHooks.set('/hooks/flaky', 1);
    await post(emu, `${DS}/batches/fl/bulk-upload/image-references`, { imageReferences: inlineRefs(fx, 'fl', 1), notificationsURL: `${fx.url}/hooks/flaky` });
    const hooks = await waitFor('retry', () => (fx.hooks.length >= 2 ? fx.hooks : undefined));
    expect(hooks.map((h) => h.body.delivery_attempt)).toEqual([1, 2]);
    expect(hooks[1]!.body.event_id).toBe(hooks[0]!.body.event_id);
    // The emulator records a delivery once it has the response, a moment after the receiver saw it.
    const deliveries = await waitFor('delivery records', () => (emu.webhookDeliveries.length >= 2 ? emu.webhookDeliveries : undefined));
    expect(deliveries.map((d) => d.status)).toEqual([500, 204]);
  });

  it('shuffles and delays webhooks of one ingest when asked', async () => {
    const { emu, fx } = await setup();
    emu.setFaults({ shuffleWebhooks: true, webhookDelayMs: 30 });
    await post(emu, `${DS}/batches/sh/bulk-upload/image-references`, {
      imageReferences: inlineRefs(fx, 'sh', 2),
      notificationsURL: `${fx.url}/hooks/sh`,
      notificationCategories: ['files-status', 'ingest-status'],
    });
    const hooks = await waitFor('both events', () => (fx.hooks.length >= 2 ? fx.hooks : undefined));
    expect(hooks.map((h) => h.body.notification.type)).toEqual(['ingest-status-notification-v1', 'ingest-files-status-notification-v1']);
  });

  it('close() cancels pending ingests and deliveries', async () => {
    const { emu, fx } = await setup({ ingestDelayMs: 60_000 });
    await post(emu, `${DS}/batches/slow/bulk-upload/image-references`, { imageReferences: inlineRefs(fx, 'slow', 2), notificationsURL: `${fx.url}/hooks/slow` });
    const started = Date.now();
    await emu.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(fx.hooks).toHaveLength(0);
    expect(fx.hits.size).toBe(0);
    await expect(fetch(`${emu.url}/data-staging/v1/external/${WORKSPACE}/batches`)).rejects.toThrow();
  });
});

describe('roboflow emulator: CLI', () => {
  it('prints its base URL as one JSON line and serves the API', async () => {
    const main = fileURLToPath(new URL('../../sandbox/roboflow-emulator/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--api-key', API_KEY, '--workspace', WORKSPACE], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const line = await waitFor('CLI banner', () => (out.includes('\n') ? out.split('\n')[0] : undefined));
    const { url } = JSON.parse(line!) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).not.toContain(API_KEY);
    const res = await fetch(`${url}${DS}/batches?api_key=${API_KEY}`);
    expect(await res.json()).toEqual({ batches: [], nextPageToken: null });
  });
});

describe('roboflow emulator: switches for what the real API leaves open', () => {
  const stagesOf = async (emu: RunningEmulator, jobId: string) => (await get(emu, `${BP}/jobs/${jobId}/stages`)).body.stages as any[];

  it.each([
    [undefined, ['processing', 'export']],
    ['archive', ['processing', 'archive']],
    [null, ['processing']],
  ])('exportStageName %j: the job runs stages %j, the last one holding the results', async (exportStageName, names) => {
    const { emu, fx } = await setup({ faults: { exportStageName } });
    await ingestAndWait(emu, fx, 'in-s', 3);
    expect((await post(emu, `${BP}/jobs/job-s`, jobBody('in-s'))).status).toBe(200);
    const job = await waitTerminal(emu, 'job-s');
    expect(job).toMatchObject({ error: false, plannedStages: names });
    const stages = await stagesOf(emu, 'job-s');
    expect(stages.map((s) => s.processingStageName)).toEqual(names);
    expect(stages.every((s) => s.statusType === 'success' && s.outputBatches.length === 1)).toBe(true);
    expect(stages.at(-1).outputBatches).toEqual([names.length === 1 ? 'job-s-processing' : 'job-s-export']);
  });

  it('answers a repeated job POST by the rule, or with repeatedJobPostStatus whatever the body', async () => {
    const { emu, fx } = await setup();
    await ingestAndWait(emu, fx, 'in-r', 2);
    await ingestAndWait(emu, fx, 'in-o', 2);
    expect((await post(emu, `${BP}/jobs/job-r`, jobBody('in-r'))).status).toBe(200);
    expect((await post(emu, `${BP}/jobs/job-r`, jobBody('in-r'))).status).toBe(200);
    expect((await post(emu, `${BP}/jobs/job-r`, jobBody('in-o'))).status).toBe(409);
    for (const status of [409, 400, 200]) {
      emu.setFaults({ repeatedJobPostStatus: status });
      expect((await post(emu, `${BP}/jobs/job-r`, jobBody('in-r'))).status).toBe(status);
      expect((await post(emu, `${BP}/jobs/job-r`, jobBody('in-o'))).status).toBe(status);
    }
    // The job is the first one, untouched, and no other was created.
    expect(emu.jobsStarted()).toEqual(['job-r']);
    expect((await get(emu, `${BP}/jobs/job-r`)).body.job.jobDefinition.jobInput.batchId).toBe('in-r');
  });

  it('carries out a job POST whose answer is lost (504), so a retry is a repeated POST', async () => {
    const { emu, fx } = await setup({ faults: { lostJobStartAnswers: 1 } });
    await ingestAndWait(emu, fx, 'in-l', 2);
    expect((await post(emu, `${BP}/jobs/job-l`, jobBody('in-l'))).status).toBe(504);
    expect(emu.jobsStarted()).toEqual(['job-l']);
    expect((await post(emu, `${BP}/jobs/job-l`, jobBody('in-l'))).status).toBe(200);
    expect(emu.jobsStarted()).toEqual(['job-l']);
  });

  it('refuses http:// references with refuseHttpReferences, and takes them without it', async () => {
    const { emu, fx } = await setup({ faults: { refuseHttpReferences: true } });
    fx.refsFiles.set('h.jsonl', JSON.stringify(inlineRefs(fx, 'h', 1)[0]) + '\n');
    const byFile = await post(emu, `${DS}/batches/http-f/bulk-upload/image-references`, { imageReferencesURL: `${fx.url}/refs/h.jsonl?sig=s3cr3t` });
    const inline = await post(emu, `${DS}/batches/http-i/bulk-upload/image-references`, { imageReferences: inlineRefs(fx, 'h', 2) });
    for (const res of [byFile, inline]) {
      expect(res.status).toBe(400);
      expect(res.body.error).toContain(`http://${new URL(fx.url).host}`);
      expect(res.body.error).not.toContain('s3cr3t');
    }
    expect((await get(emu, `${DS}/batches`)).body.batches).toEqual([]);
    emu.setFaults({});
    await ingestAndWait(emu, fx, 'http-ok', 2);
  });

  it('refuses hosts listed in untrustedHosts as unsafe-url-detected, and trusts them again when cleared', async () => {
    const { emu, fx } = await setup({ faults: { untrustedHosts: ['127.0.0.1'] } });
    await post(emu, `${DS}/batches/distrust/bulk-upload/image-references`, { imageReferences: inlineRefs(fx, 'd', 2), notificationsURL: `${fx.url}/hooks/d` });
    const hook = await waitFor('ingest-status', () => fx.hooks[0]);
    expect(hook.body.notification.error_details).toMatchObject({ type: 'unsafe-url-detected', reason: expect.stringContaining('127.0.0.1') });
    expect(hook.body.notification.error_details.reason).not.toContain('sig=abc');
    const shards = (await get(emu, `${DS}/batches/distrust/shards`)).body.shards;
    expect(shards[0].statusMetadata).toMatchObject({ errorType: 'unsafe-url-detected' });
    emu.setFaults({});
    await ingestAndWait(emu, fx, 'trusted-again', 2);
  });
});
