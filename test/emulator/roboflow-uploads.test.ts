import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pack as tarPack } from 'tar-stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SIGNED_URL_INGEST_REFUSAL, startRoboflowEmulator, type EmulatorOptions, type RunningEmulator } from '../../sandbox/roboflow-emulator/index';

/** The upload endpoints of Data Staging over HTTP on loopback, with the emulator serving its own signed PUT URLs. */

const API_KEY = 'upload-key-71c3';
const WORKSPACE = 'acme';
const DS = `/data-staging/v1/external/${WORKSPACE}`;
const BP = `/batch-processing/v1/external/${WORKSPACE}`;
const WAIT_MS = 10_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(extra: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  const emu = await startRoboflowEmulator({ apiKey: API_KEY, workspace: WORKSPACE, ingestDelayMs: 10, jobStageDelayMs: 20, ...extra });
  cleanups.push(emu.close);
  return emu;
}

const api = (emu: RunningEmulator, path: string, query: Record<string, string> = {}) => {
  const url = new URL(path, emu.url);
  url.searchParams.set('api_key', API_KEY);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.toString();
};

async function call(emu: RunningEmulator, method: string, path: string, query: Record<string, string> = {}, init: RequestInit = {}) {
  const res = await fetch(api(emu, path, query), { method, ...init });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const postJson = (emu: RunningEmulator, path: string, body: unknown, query: Record<string, string> = {}) =>
  call(emu, 'POST', path, query, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The probe's first defined value, looked for every 20 ms for at most WAIT_MS. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
  vi.waitFor(
    async () => {
      const value = await probe();
      if (value === undefined) throw new Error(`still waiting for ${what}`);
      return value;
    },
    { timeout: WAIT_MS, interval: 20 },
  );

const imageBytes = (name: string, size = 100) => Buffer.alloc(size, `jpeg:${name};`);

async function tarOf(members: Array<{ name: string; data: Buffer }>): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  for (const m of members) await new Promise<void>((resolve, reject) => pack.entry({ name: m.name }, m.data, (err) => (err ? reject(err) : resolve())));
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** PUTs `body`, with Content-Length unless `chunked` (then as a stream, as a client streaming an archive does). */
async function put(url: string, headers: Record<string, string>, body: Buffer, { chunked = false } = {}) {
  const init = chunked
    ? { body: new Blob([body]).stream(), duplex: 'half' as const }
    : { body };
  const res = await fetch(url, { method: 'PUT', headers, ...init } as RequestInit);
  return { status: res.status, text: await res.text() };
}

async function requestArchiveSlot(emu: RunningEmulator, batchId: string) {
  const res = await call(emu, 'POST', `${DS}/batches/${batchId}/bulk-upload/image-files`, { displayName: batchId });
  expect(res.status).toBe(200);
  return res.body.signedURLDetails as {
    shardId: string;
    uploadURL: string;
    method: string;
    extensionHeaders: Record<string, string>;
    maxNumberOfImages: number;
    maxShardSize: number;
  };
}

const countOf = async (emu: RunningEmulator, batchId: string) => (await call(emu, 'GET', `${DS}/batches/${batchId}/count`)).body.count as number;

async function shardsOf(emu: RunningEmulator, batchId: string) {
  return (await call(emu, 'GET', `${DS}/batches/${batchId}/shards`, { pageSize: '3' })).body.shards as any[];
}

const jobBody = (batchId: string, type = 'simple-image-processing-v1') => ({
  type,
  jobInput: { type: 'staging-batch-input-v1', batchId },
  computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu' },
  processingSpecification: { type: 'workflows-processing-specification-v1', workspace: WORKSPACE, workflowId: 'count-cars', aggregationFormat: 'jsonl' },
});

/** Runs a job over the batch and returns the item names in its processing results. */
async function namesInJobResults(emu: RunningEmulator, batchId: string, jobId: string, type?: string): Promise<string[]> {
  expect((await postJson(emu, `${BP}/jobs/${jobId}`, jobBody(batchId, type))).status).toBe(200);
  const job = await waitFor('job terminal', async () => {
    const { body } = await call(emu, 'GET', `${BP}/jobs/${jobId}`);
    return body.job?.isTerminal ? body.job : undefined;
  });
  expect(job.error).toBe(false);
  const listed = await call(emu, 'GET', `${DS}/batches/${jobId}-processing/list`, { partName: 'results', pageSize: '3' });
  const rows = await (await fetch(listed.body.filesMetadata[0].downloadURL)).text();
  return rows.trim().split('\n').map((line) => JSON.parse(line).name as string).sort();
}

async function startHookReceiver(): Promise<{ url: string; hooks: Array<{ headers: IncomingHttpHeaders; body: any }> }> {
  const hooks: Array<{ headers: IncomingHttpHeaders; body: any }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    hooks.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, hooks };
}

describe('bulk-upload/image-files', () => {
  it('answers signedURLDetails; the tar PUT with its extension headers is indexed as a shard, webhooks follow, and a job processes the images', async () => {
    const emu = await start({ maxImagesPerArchive: 5, maxArchiveBytes: 64 * 1024 });
    const receiver = await startHookReceiver();
    const details = await requestArchiveSlot(emu, 'tar-1');
    expect(details).toMatchObject({ method: 'PUT', maxNumberOfImages: 5, maxShardSize: 64 * 1024, shardId: expect.any(String) });
    expect(new URL(details.uploadURL).origin).toBe(emu.url);
    expect(Object.keys(details.extensionHeaders).length).toBeGreaterThan(0);
    expect(details.uploadURL).not.toContain(API_KEY);

    const names = ['a.jpg', 'b.jpg', 'c.png'];
    const config = { ingestId: 'ingest-tar-1', notificationsURL: receiver.url, notificationCategories: ['ingest-status', 'files-status'] };
    const archive = await tarOf([
      ...names.map((name) => ({ name, data: imageBytes(name) })),
      { name: 'notification_config.json', data: Buffer.from(JSON.stringify(config)) },
    ]);
    expect((await put(details.uploadURL, details.extensionHeaders, archive)).status).toBe(200);

    await waitFor('3 staged', async () => ((await countOf(emu, 'tar-1')) === 3 ? true : undefined));
    const shards = await shardsOf(emu, 'tar-1');
    expect(shards).toEqual([expect.objectContaining({ shardId: details.shardId, statusName: 'shard-ingest-completed', statusType: 'success', shardObjectsCount: 3 })]);
    const meta = (await call(emu, 'GET', `${DS}/batches/tar-1`)).body.batch;
    expect(meta).toMatchObject({ batchType: 'sharded-batch', batchContentType: 'images', displayName: 'tar-1' });
    const listed = (await call(emu, 'GET', `${DS}/batches/tar-1/list`, { pageSize: '3' })).body.filesMetadata as any[];
    expect(listed.map((f) => f.fileName).sort()).toEqual(names);
    const a = listed.find((f) => f.fileName === 'a.jpg');
    expect(a.shardId).toBe(details.shardId);
    expect(Buffer.from(await (await fetch(a.downloadURL)).arrayBuffer())).toEqual(imageBytes('a.jpg'));

    const hooks = await waitFor('2 webhooks', async () => (receiver.hooks.length >= 2 ? receiver.hooks : undefined));
    expect(hooks.map((h) => h.body.notification.type)).toEqual(['ingest-files-status-notification-v1', 'ingest-status-notification-v1']);
    for (const h of hooks) expect(h.body).toMatchObject({ ingest_id: 'ingest-tar-1', batch_id: 'tar-1', shard_id: details.shardId });
    expect(hooks[0]!.body.notification.ingested_files.sort()).toEqual(names);
    expect(hooks[1]!.body.notification.success).toBe(true);

    expect(await namesInJobResults(emu, 'tar-1', 'job-tar-1')).toEqual(names);
  });

  it('keeps member names as packed (nested, long, non-ASCII); a large image is staged with its size, one over maxImageBytes fails alone', async () => {
    const emu = await start({ maxImageBytes: 300 * 1024 });
    const receiver = await startHookReceiver();
    const longName = `${'deep/'.repeat(30)}x-${'y'.repeat(120)}.jpg`;
    const names = ['a/b/c.jpg', longName, 'café ü.png'];
    const big = Buffer.alloc(200 * 1024, 'large');
    const archive = await tarOf([
      ...names.map((name) => ({ name, data: imageBytes(name) })),
      { name: 'large.jpg', data: big },
      { name: 'huge.jpg', data: Buffer.alloc(400 * 1024, 'h') },
      { name: 'notification_config.json', data: Buffer.from(JSON.stringify({ notificationsURL: receiver.url, notificationCategories: ['files-status'] })) },
    ]);
    const slot = await requestArchiveSlot(emu, 'names');
    expect((await put(slot.uploadURL, slot.extensionHeaders, archive)).status).toBe(200);
    await waitFor('4 staged', async () => ((await countOf(emu, 'names')) === 4 ? true : undefined));
    const all: any[] = [];
    for (let page = 0, token: string | null = ''; token !== null && page < 10; page++) {
      const { body } = await call(emu, 'GET', `${DS}/batches/names/list`, token ? { nextPageToken: token } : {});
      all.push(...body.filesMetadata);
      token = body.nextPageToken;
    }
    expect(all.map((f) => f.fileName).sort()).toEqual([...names, 'large.jpg'].sort());
    const large = all.find((f) => f.fileName === 'large.jpg');
    expect((await (await fetch(large.downloadURL)).arrayBuffer()).byteLength).toBe(big.length);
    const [hook] = await waitFor('files-status', async () => (receiver.hooks.length >= 1 ? receiver.hooks : undefined));
    expect(hook!.body).toMatchObject({ ingest_id: slot.shardId, shard_id: slot.shardId });
    expect(hook!.body.notification.failed_files).toEqual([{ type: 'file-size-limit-exceeded', file_name: 'huge.jpg', reason: 'Max size of single image is 307200B.' }]);
  });

  it('maxShardSize: a larger PUT is refused 400 and stages nothing; maxNumberOfImages: a shard of more images fails whole', async () => {
    const emu = await start({ maxImagesPerArchive: 2, maxArchiveBytes: 8 * 1024 });
    const big = await requestArchiveSlot(emu, 'limits');
    const tooBig = await tarOf([{ name: 'big.jpg', data: imageBytes('big', 10 * 1024) }]);
    const refused = await put(big.uploadURL, big.extensionHeaders, tooBig);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('EntityTooLarge');

    const streamed = await put(big.uploadURL, big.extensionHeaders, tooBig, { chunked: true });
    expect(streamed.status).toBe(400); // no Content-Length: the range is enforced as the bytes arrive
    expect(streamed.text).toContain('EntityTooLarge');

    const many = await requestArchiveSlot(emu, 'limits');
    const three = await tarOf(['x.jpg', 'y.jpg', 'z.jpg'].map((name) => ({ name, data: imageBytes(name) })));
    expect((await put(many.uploadURL, many.extensionHeaders, three)).status).toBe(200);
    const failed = await waitFor('shard failed', async () => (await shardsOf(emu, 'limits')).find((s) => s.statusType === 'error'));
    expect(failed).toMatchObject({ shardId: many.shardId, statusName: 'shard-ingest-failed', shardObjectsCount: 0 });
    expect(failed.statusMetadata).toMatchObject({ errorType: 'images-limit-exceeded' });
    expect(await shardsOf(emu, 'limits')).toHaveLength(1); // the refused PUT made no shard
    expect(await countOf(emu, 'limits')).toBe(0);

    const junk = await requestArchiveSlot(emu, 'limits');
    expect((await put(junk.uploadURL, junk.extensionHeaders, Buffer.alloc(700, 'not a tar'))).status).toBe(200);
    const unreadable = await waitFor('unreadable shard failed', async () =>
      (await shardsOf(emu, 'limits')).find((s) => s.shardId === junk.shardId && s.statusType === 'error'),
    );
    expect(unreadable.statusMetadata).toMatchObject({ errorType: 'invalid-archive' });

    const two = await requestArchiveSlot(emu, 'limits');
    expect((await put(two.uploadURL, two.extensionHeaders, await tarOf(['x.jpg', 'y.jpg'].map((name) => ({ name, data: imageBytes(name) }))))).status).toBe(200);
    await waitFor('2 staged', async () => ((await countOf(emu, 'limits')) === 2 ? true : undefined));
  });

  it('a PUT without an announced extension header, with another value, or a forged signature is refused; a repeated PUT of the same bytes is a no-op, of other bytes 409', async () => {
    const emu = await start();
    const slot = await requestArchiveSlot(emu, 'headers');
    const archive = await tarOf([{ name: 'one.jpg', data: imageBytes('one') }]);
    for (const name of Object.keys(slot.extensionHeaders)) {
      const without = Object.fromEntries(Object.entries(slot.extensionHeaders).filter(([n]) => n !== name));
      const res = await put(slot.uploadURL, without, archive);
      expect(res.status).toBe(400);
      expect(res.text).toContain(name);
      const altered = await put(slot.uploadURL, { ...slot.extensionHeaders, [name]: 'other' }, archive);
      expect(altered.status).toBe(400);
    }
    const forged = new URL(slot.uploadURL);
    forged.searchParams.set('signature', '0'.repeat(64));
    expect((await put(forged.toString(), slot.extensionHeaders, archive)).status).toBe(403);
    expect(await shardsOf(emu, 'headers')).toEqual([]);
    emu.setFaults({ uploadsRequireContentLength: true });
    expect((await put(slot.uploadURL, slot.extensionHeaders, archive, { chunked: true })).status).toBe(411);
    emu.setFaults({});
    emu.setFaults({ failures: [{ pathIncludes: '/_uploads/', method: 'PUT', status: 503, count: 1 }] });
    const unavailable = await fetch(slot.uploadURL, { method: 'PUT', headers: slot.extensionHeaders, body: archive });
    expect(unavailable.status).toBe(503); // a scripted failure: the bytes were read, nothing is staged
    expect(unavailable.headers.get('retry-after')).toBe('0');
    await unavailable.body?.cancel();
    expect(await shardsOf(emu, 'headers')).toEqual([]);
    expect((await put(slot.uploadURL, slot.extensionHeaders, archive, { chunked: true })).status).toBe(200); // streamed, no Content-Length

    expect((await put(slot.uploadURL, slot.extensionHeaders, archive)).status).toBe(200); // the same bytes again: a no-op
    const other = await tarOf([{ name: 'two.jpg', data: imageBytes('two') }]);
    expect((await put(slot.uploadURL, slot.extensionHeaders, other)).status).toBe(409);
    await waitFor('1 staged', async () => ((await countOf(emu, 'headers')) === 1 ? true : undefined));
    expect(await shardsOf(emu, 'headers')).toHaveLength(1);
    const puts = emu.requests.filter((r) => r.method === 'PUT');
    expect(puts.every((r) => r.query.signature === '[redacted]')).toBe(true);
    expect(puts.filter((r) => r.headers['transfer-encoding'] === 'chunked' && r.headers['content-length'] === undefined)).toHaveLength(2);
  });
});

describe('upload/image (multipart)', () => {
  it('stages the file at once into a simple batch, whether the part is named after the file (official client) or `file` (API reference); a job processes it', async () => {
    const emu = await start();
    const upload = async (fileName: string, field: string, data: Buffer) => {
      const form = new FormData();
      form.append(field, new Blob([data], { type: 'image/jpeg' }), fileName);
      return call(emu, 'POST', `${DS}/batches/single/upload/image`, { fileName, displayName: 'Single' }, { body: form });
    };
    expect(await upload('p.jpg', 'p.jpg', imageBytes('p'))).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await upload('q.jpg', 'file', imageBytes('q'))).status).toBe(200);
    expect(await countOf(emu, 'single')).toBe(2);
    expect((await upload('q.jpg', 'file', imageBytes('q2'))).status).toBe(200); // same name: replaced
    expect(await countOf(emu, 'single')).toBe(2);
    const meta = (await call(emu, 'GET', `${DS}/batches/single`)).body.batch;
    expect(meta).toMatchObject({ batchType: 'simple-batch', batchContentType: 'images', displayName: 'Single' });
    const q = ((await call(emu, 'GET', `${DS}/batches/single/list`)).body.filesMetadata as any[]).find((f) => f.fileName === 'q.jpg');
    expect(Buffer.from(await (await fetch(q.downloadURL)).arrayBuffer())).toEqual(imageBytes('q2'));

    const noName = new FormData();
    noName.append('file', new Blob([imageBytes('r')]), 'r.jpg');
    expect((await call(emu, 'POST', `${DS}/batches/single/upload/image`, {}, { body: noName })).status).toBe(400);
    expect((await postJson(emu, `${DS}/batches/single/upload/image`, { not: 'multipart' }, { fileName: 'r.jpg' })).status).toBe(400);

    expect(await namesInJobResults(emu, 'single', 'job-single')).toEqual(['p.jpg', 'q.jpg']);
  });
});

describe('upload/video', () => {
  it('answers signedURLDetails with maxFileSize; the PUT video is staged at once and a video job processes it', async () => {
    const emu = await start();
    const res = await call(emu, 'POST', `${DS}/batches/videos-1/upload/video`, { fileName: 'clip.mp4', displayName: 'videos-1' });
    expect(res.status).toBe(200);
    const details = res.body.signedURLDetails;
    expect(details).toMatchObject({ method: 'PUT', maxFileSize: expect.any(Number), uploadURL: expect.stringContaining(emu.url) });
    expect(await countOf(emu, 'videos-1')).toBe(0);
    const video = Buffer.alloc(3000, 'mp4');
    expect((await put(details.uploadURL, {}, video)).status).toBe(400); // extension headers missing
    expect((await put(details.uploadURL, { ...details.extensionHeaders, 'content-type': 'video/mp4' }, video)).status).toBe(200);
    expect(await countOf(emu, 'videos-1')).toBe(1);
    const [file] = (await call(emu, 'GET', `${DS}/batches/videos-1/list`)).body.filesMetadata;
    expect(file).toMatchObject({ fileName: 'clip.mp4', contentType: 'video' });
    expect(Buffer.from(await (await fetch(file.downloadURL)).arrayBuffer())).toEqual(video);
    expect(await namesInJobResults(emu, 'videos-1', 'job-video-1', 'simple-video-processing-v1')).toEqual(['clip.mp4']);
  });
});

describe('no mixing of bulk and single uploads in one batch', () => {
  it('a bulk batch refuses single images; a single-upload batch refuses bulk archives and references', async () => {
    const emu = await start();
    await requestArchiveSlot(emu, 'bulk-first');
    const form = new FormData();
    form.append('file', new Blob([imageBytes('s')]), 's.jpg');
    const single = await call(emu, 'POST', `${DS}/batches/bulk-first/upload/image`, { fileName: 's.jpg' }, { body: form });
    expect(single.status).toBe(400);
    expect(single.body.error).toContain('bulk');

    const form2 = new FormData();
    form2.append('file', new Blob([imageBytes('s')]), 's.jpg');
    expect((await call(emu, 'POST', `${DS}/batches/single-first/upload/image`, { fileName: 's.jpg' }, { body: form2 })).status).toBe(200);
    const bulk = await call(emu, 'POST', `${DS}/batches/single-first/bulk-upload/image-files`);
    expect(bulk.status).toBe(400);
    expect(bulk.body.error).toContain('single uploads');
    const refs = await postJson(emu, `${DS}/batches/single-first/bulk-upload/image-references`, { imageReferences: [{ name: 'r.jpg', url: 'https://x.invalid/r.jpg' }] });
    expect(refs.status).toBe(400);
    expect(await countOf(emu, 'single-first')).toBe(1);
  });
});

describe('plan switch: no signed-URL ingest', () => {
  const refs = { imageReferences: [{ name: 'r.jpg', url: 'http://127.0.0.1:9/r.jpg' }] };

  it('off: references ingest is accepted; on: refused with 403 and the docs sentence, nothing created, while uploads still work', async () => {
    const emu = await start();
    expect((await postJson(emu, `${DS}/batches/plan-a/bulk-upload/image-references`, refs)).status).toBe(200);

    emu.setFaults({ signedUrlIngestRefused: true });
    for (const kind of ['image-references', 'video-references']) {
      const body = kind === 'image-references' ? refs : { videoReferencesURL: 'https://127.0.0.1/refs.jsonl' };
      const refused = await postJson(emu, `${DS}/batches/plan-b/bulk-upload/${kind}`, body);
      expect(refused).toEqual({ status: SIGNED_URL_INGEST_REFUSAL.status, body: { error: SIGNED_URL_INGEST_REFUSAL.error } });
    }
    expect(SIGNED_URL_INGEST_REFUSAL.status).toBe(403);
    expect((await call(emu, 'GET', `${DS}/batches/plan-b`)).status).toBe(404);

    const slot = await requestArchiveSlot(emu, 'plan-b');
    expect((await put(slot.uploadURL, slot.extensionHeaders, await tarOf([{ name: 'u.jpg', data: imageBytes('u') }]))).status).toBe(200);
    await waitFor('1 staged', async () => ((await countOf(emu, 'plan-b')) === 1 ? true : undefined));
  });

  it('the refusal\'s status and text are settable (Roboflow documents neither)', async () => {
    const emu = await start({ faults: { signedUrlIngestRefused: { status: 402, error: 'Upgrade your plan' } } });
    expect(await postJson(emu, `${DS}/batches/plan-c/bulk-upload/image-references`, refs)).toEqual({ status: 402, body: { error: 'Upgrade your plan' } });
  });

  it('the refusal can come during the ingest instead: accepted, then the shard fails and ingest-status reports the plan', async () => {
    const emu = await start({ faults: { signedUrlIngestRefused: { during: 'ingest' } } });
    const receiver = await startHookReceiver();
    const accepted = await postJson(emu, `${DS}/batches/plan-d/bulk-upload/image-references`, { ...refs, notificationsURL: receiver.url });
    expect(accepted.status).toBe(200);
    const shard = await waitFor('shard failed', async () => (await shardsOf(emu, 'plan-d')).find((s) => s.statusType === 'error'));
    expect(shard.statusMetadata).toMatchObject({ errorType: SIGNED_URL_INGEST_REFUSAL.ingestErrorType, reason: SIGNED_URL_INGEST_REFUSAL.error });
    const [hook] = await waitFor('webhook', async () => (receiver.hooks.length >= 1 ? receiver.hooks : undefined));
    expect(hook!.body.notification).toEqual({
      type: 'ingest-status-notification-v1',
      success: false,
      error_details: { type: 'signed-url-ingest-not-allowed', reason: SIGNED_URL_INGEST_REFUSAL.error },
    });
    expect(await countOf(emu, 'plan-d')).toBe(0);
  });
});
