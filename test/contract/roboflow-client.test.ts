import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors';
import { RoboflowClient } from '../../shared/targets/roboflow/client';
import type { JobDefinition, RestartOverrides } from '../../shared/targets/roboflow/request-schemas';
import {
  parseMultipart,
  RecordingAgent,
  startRecordingServer,
  type RecordedRequest,
  type RecordingServer,
} from '../support/recording-server';

const KEY = 'secret-key';
const DS = '/data-staging/v1/external/acme';
const BP = '/batch-processing/v1/external/acme';
const BATCH = 'b-2026_09-01';
const JOB = 'bb-0123456789abcdef0'; // 19 chars

let server: RecordingServer;
let client: RoboflowClient;

beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  client = new RoboflowClient({ apiKey: KEY, workspace: 'acme', apiUrl: server.url, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
});

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page);
  return all;
}

function only(): RecordedRequest {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
}

/** A request without a body: nothing on the wire, no JSON content type. */
function expectNoBody(req: RecordedRequest) {
  expect(req.rawBody.length).toBe(0);
  expect(req.headers['content-type']).toBeUndefined();
}

function expectJsonBody(req: RecordedRequest, body: unknown) {
  expect(req.headers['content-type']).toBe('application/json');
  expect(req.json).toStrictEqual(body);
  expect(req.text).not.toContain('null');
}

const shard = (id: string) => ({ shardId: id, statusName: 'ingested', statusType: 'info', eventTimestamp: '2026-09-01T00:00:00Z', shardObjectsCount: 3 });
const batchMeta = (id: string) => ({ displayName: id, batchId: id, batchType: 'sharded-batch', batchContentType: 'images', createdDate: 'c', expiryDate: 'e' });
const file = (name: string) => ({ downloadURL: `https://dl.example/${name}?sig=1`, fileName: name, partName: 'p1', shardId: 's', contentType: 'image/jpeg' });
const job = (id: string) => ({ jobId: id, name: id, isTerminal: false, error: false, createdAt: 'c', lastUpdate: 'u' });
const signed = { signedURLDetails: { uploadURL: 'https://upload.example/x?sig=1', extensionHeaders: { 'x-goog-meta': 'v' } } };

const definition: JobDefinition = {
  type: 'simple-image-processing-v1',
  jobInput: { type: 'staging-batch-input-v1', batchId: BATCH },
  computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 2 },
  processingTimeoutSeconds: 14_400,
  maxParallelTasks: 8,
  processingSpecification: {
    type: 'workflows-processing-specification-v1',
    workspace: 'acme',
    workflowId: 'count-cars',
    persistImagesOutputs: false,
    aggregationFormat: 'jsonl',
  },
  notificationsURL: 'https://bridge.example.com/rf/job-hook/tok',
};

// ---- workspace -------------------------------------------------------------------------------------

describe('workspaceOfKey', () => {
  it('GET / with only api_key, returns the workspace slug (extra fields tolerated)', async () => {
    server.enqueue({ json: { workspace: 'acme', welcome: 'hi', extra: { a: 1 } } });
    await expect(client.workspaceOfKey()).resolves.toBe('acme');
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.pathname).toBe('/');
    expect(req.query).toEqual({ api_key: KEY });
    expectNoBody(req);
  });
});

// ---- ingest ------------------------------------------------------------------------------------------

describe('reference ingests', () => {
  it('image references by URL: exact path, displayName in the query (defaults to the batch id), exact body', async () => {
    server.enqueue({ json: { ingestId: `${BATCH}-0`, shardIds: ['s1'], duplicated: false, unknown: 1 } });
    const body = {
      imageReferencesURL: 'https://bucket.s3.amazonaws.com/manifests/m.jsonl?X-Amz-Signature=abc',
      ingestId: `${BATCH}-0`,
      notificationsURL: 'https://bridge.example.com/rf/hook/tok',
      notificationCategories: ['ingest-status', 'files-status'] as ('ingest-status' | 'files-status')[],
    };
    const res = await client.ingestImageReferences(BATCH, body);
    expect(res).toEqual({ ingestId: `${BATCH}-0`, shardIds: ['s1'], duplicated: false });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}/bulk-upload/image-references`);
    expect(req.query).toEqual({ api_key: KEY, displayName: BATCH });
    expectJsonBody(req, {
      imageReferencesURL: 'https://bucket.s3.amazonaws.com/manifests/m.jsonl?X-Amz-Signature=abc',
      ingestId: `${BATCH}-0`,
      notificationsURL: 'https://bridge.example.com/rf/hook/tok',
      notificationCategories: ['ingest-status', 'files-status'],
    });
  });

  it('image references inline with an explicit displayName; unset optionals are omitted, never null', async () => {
    server.enqueue({ json: { ingestId: 'server-assigned' } });
    const refs = [{ name: 'cams__lot1__0001.jpg', url: 'https://b.s3.amazonaws.com/cams/lot1/0001.jpg?sig=1' }];
    const res = await client.ingestImageReferences(BATCH, { imageReferences: refs, ingestId: undefined, notificationsURL: undefined }, 'My batch & co');
    expect(res.ingestId).toBe('server-assigned');
    const req = only();
    expect(req.query).toEqual({ api_key: KEY, displayName: 'My batch & co' });
    expect(req.search).not.toContain('null');
    expectJsonBody(req, { imageReferences: refs });
    expect(Object.keys(req.json as object)).toEqual(['imageReferences']);
  });

  it('video references by URL', async () => {
    server.enqueue({ json: { ingestId: 'vid-0', duplicated: true } });
    const res = await client.ingestVideoReferences('vid-batch-7', { videoReferencesURL: 'https://b/m.jsonl?sig', ingestId: 'vid-0' });
    expect(res).toEqual({ ingestId: 'vid-0', duplicated: true });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${DS}/batches/vid-batch-7/bulk-upload/video-references`);
    expect(req.query).toEqual({ api_key: KEY, displayName: 'vid-batch-7' });
    expectJsonBody(req, { videoReferencesURL: 'https://b/m.jsonl?sig', ingestId: 'vid-0' });
  });

  it('video references inline with displayName', async () => {
    server.enqueue({ json: { ingestId: 'i' } });
    await client.ingestVideoReferences(BATCH, { videoReferences: [{ name: 'a.mp4', url: 'https://b/a.mp4?s' }], notificationCategories: ['ingest-status'] }, 'Videos');
    const req = only();
    expect(req.query).toEqual({ api_key: KEY, displayName: 'Videos' });
    expectJsonBody(req, { videoReferences: [{ name: 'a.mp4', url: 'https://b/a.mp4?s' }], notificationCategories: ['ingest-status'] });
  });

  it('an ingest response without ingestId is rejected, naming the field', async () => {
    server.enqueue({ json: { shardIds: [] } });
    await expect(client.ingestImageReferences(BATCH, { imageReferencesURL: 'https://x' })).rejects.toThrow(/ingestId/);
  });

  it('RoboQL ingest: no displayName in the query (it goes in the body), exact body', async () => {
    server.enqueue({ json: { status: 'accepted' } });
    const body = { query: 'project:cars tag:night', displayName: 'Night cars', ingestId: 'rq-1' };
    await expect(client.roboqlIngest(BATCH, body)).resolves.toEqual({ status: 'accepted' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}/roboql-ingest`);
    expect(req.query).toEqual({ api_key: KEY });
    expectJsonBody(req, body);
  });
});

describe('uploads', () => {
  it('upload/image: multipart with one field named after the file name carrying the bytes', async () => {
    server.enqueue({ json: { status: 'ok' } });
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02, 0xfe]);
    await expect(client.uploadImage(BATCH, 'img 0001.jpg', bytes)).resolves.toEqual({ status: 'ok' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}/upload/image`);
    expect(req.query).toEqual({ api_key: KEY, displayName: BATCH, fileName: 'img 0001.jpg' });
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const form = await parseMultipart(req);
    expect([...form.keys()]).toEqual(['img 0001.jpg']);
    const part = form.get('img 0001.jpg');
    expect(part).toBeInstanceOf(Blob);
    expect((part as File).name).toBe('img 0001.jpg');
    expect(new Uint8Array(await (part as Blob).arrayBuffer())).toEqual(bytes);
  });

  it('upload/image with an explicit displayName, and the file is re-sent on a retried attempt', async () => {
    server.enqueue({ status: 502 }, { json: {} });
    const bytes = new TextEncoder().encode('PNG-bytes');
    await client.uploadImage(BATCH, 'a.png', bytes, 'Shown');
    expect(server.requests).toHaveLength(2);
    for (const req of server.requests) {
      expect(req.query).toEqual({ api_key: KEY, displayName: 'Shown', fileName: 'a.png' });
      const form = await parseMultipart(req);
      expect(new TextDecoder().decode(await (form.get('a.png') as Blob).arrayBuffer())).toBe('PNG-bytes');
    }
  });

  it('upload/video: fileName and displayName in the query, no body, returns signedURLDetails', async () => {
    server.enqueue({ json: signed });
    const res = await client.requestVideoUpload(BATCH, 'clip.mp4');
    expect(res.signedURLDetails.uploadURL).toBe('https://upload.example/x?sig=1');
    expect(res.signedURLDetails.extensionHeaders).toEqual({ 'x-goog-meta': 'v' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}/upload/video`);
    expect(req.query).toEqual({ api_key: KEY, fileName: 'clip.mp4', displayName: BATCH });
    expectNoBody(req);
  });

  it('bulk-upload/image-files: displayName in the query, no body', async () => {
    server.enqueue({ json: signed });
    const res = await client.requestImagesArchiveUpload(BATCH, 'Archive');
    expect(res.signedURLDetails.uploadURL).toBe('https://upload.example/x?sig=1');
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}/bulk-upload/image-files`);
    expect(req.query).toEqual({ api_key: KEY, displayName: 'Archive' });
    expectNoBody(req);
  });

  it('a signed-upload response without signedURLDetails.uploadURL is rejected naming the field', async () => {
    server.enqueue({ json: { signedURLDetails: {} } });
    await expect(client.requestImagesArchiveUpload(BATCH)).rejects.toThrow(/signedURLDetails\.uploadURL/);
  });
});

// ---- inspect -------------------------------------------------------------------------------------------

describe('batch inspection', () => {
  it('count without partName: no partName key at all', async () => {
    server.enqueue({ json: { count: 42, extra: true } });
    await expect(client.batchCount(BATCH)).resolves.toBe(42);
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}/count`);
    expect(req.query).toEqual({ api_key: KEY });
    expectNoBody(req);
  });

  it('count with partName', async () => {
    server.enqueue({ json: { count: 0 } });
    await expect(client.batchCount(BATCH, 'part-a')).resolves.toBe(0);
    expect(only().query).toEqual({ api_key: KEY, partName: 'part-a' });
  });

  it('count response missing `count` rejects with a message naming the field', async () => {
    server.enqueue({ json: { total: 42 } });
    const err = await client.batchCount(BATCH).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect(err!.message).toMatch(/\bcount\b/);
    expect(err!.message).toContain(`GET ${DS}/batches/${BATCH}/count`);
    expect(err!.message).not.toContain(KEY);
  });

  it('count of the wrong type is rejected', async () => {
    server.enqueue({ json: { count: '42' } });
    await expect(client.batchCount(BATCH)).rejects.toThrow(/count/);
  });

  it('shards: follows nextPageToken (absent on the first page, previous token after) until null', async () => {
    server.enqueue(
      { json: { shards: [shard('s1'), shard('s2')], nextPageToken: 'tok-1' } },
      { json: { shards: [shard('s3')], nextPageToken: 'tok/2+=' } },
      { json: { shards: [], nextPageToken: null } },
    );
    const pages: string[][] = [];
    for await (const page of client.shards(BATCH)) pages.push(page.map((s) => s.shardId));
    expect(pages).toEqual([['s1', 's2'], ['s3'], []]);
    expect(server.requests).toHaveLength(3);
    for (const req of server.requests) {
      expect(req.method).toBe('GET');
      expect(req.pathname).toBe(`${DS}/batches/${BATCH}/shards`);
    }
    expect(server.requests.map((r) => r.query)).toEqual([
      { api_key: KEY },
      { api_key: KEY, nextPageToken: 'tok-1' },
      { api_key: KEY, nextPageToken: 'tok/2+=' },
    ]);
  });

  it('shards: a shard missing statusType is rejected naming the field path', async () => {
    server.enqueue({ json: { shards: [{ shardId: 's1', statusName: 'x' }] } });
    await expect(collect(client.shards(BATCH))).rejects.toThrow(/shards\.0\.statusType/);
  });

  it('batch metadata: GET DS/batches/{id}', async () => {
    server.enqueue({ json: { batch: { ...batchMeta(BATCH), somethingNew: 1 } } });
    await expect(client.batchMetadata(BATCH)).resolves.toEqual(batchMeta(BATCH));
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}`);
    expect(req.query).toEqual({ api_key: KEY });
  });

  it('batch metadata without batchType is rejected naming batch.batchType', async () => {
    server.enqueue({ json: { batch: { batchId: BATCH } } });
    await expect(client.batchMetadata(BATCH)).rejects.toThrow(/batch\.batchType/);
  });

  it('batches: paginated list, stops when nextPageToken is absent', async () => {
    server.enqueue({ json: { batches: [batchMeta('a')], nextPageToken: 'n1' } }, { json: { batches: [batchMeta('b')] } });
    const all = await collect(client.batches());
    expect(all.map((b) => b.batchId)).toEqual(['a', 'b']);
    expect(server.requests.map((r) => [r.method, r.pathname, r.query])).toEqual([
      ['GET', `${DS}/batches`, { api_key: KEY }],
      ['GET', `${DS}/batches`, { api_key: KEY, nextPageToken: 'n1' }],
    ]);
  });

  it('parts: GET DS/batches/{id}/parts (not paginated)', async () => {
    const parts = [{ partName: 'p1', partType: 'x', contentType: 'images' }, { partName: 'p2' }];
    server.enqueue({ json: { batchParts: parts, nextPageToken: 'ignored' } });
    await expect(client.batchParts(BATCH)).resolves.toEqual(parts);
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.pathname).toBe(`${DS}/batches/${BATCH}/parts`);
    expect(req.query).toEqual({ api_key: KEY });
  });

  it('list: partName on every page plus the previous token', async () => {
    server.enqueue(
      { json: { filesMetadata: [file('a.jpg')], nextPageToken: 'p-2' } },
      { json: { filesMetadata: [file('b.jpg'), file('c.jpg')], nextPageToken: null } },
    );
    const all = await collect(client.batchFiles(BATCH, 'p1'));
    expect(all.map((f) => f.fileName)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(all[0]!.downloadURL).toBe('https://dl.example/a.jpg?sig=1');
    expect(server.requests.map((r) => [r.method, r.pathname, r.query])).toEqual([
      ['GET', `${DS}/batches/${BATCH}/list`, { api_key: KEY, partName: 'p1' }],
      ['GET', `${DS}/batches/${BATCH}/list`, { api_key: KEY, partName: 'p1', nextPageToken: 'p-2' }],
    ]);
  });

  it('list without partName sends no partName', async () => {
    server.enqueue({ json: { filesMetadata: [] } });
    await expect(collect(client.batchFiles(BATCH))).resolves.toEqual([]);
    expect(only().query).toEqual({ api_key: KEY });
  });

  it('list: a file without downloadURL is rejected naming the field path', async () => {
    server.enqueue({ json: { filesMetadata: [{ fileName: 'x' }] } });
    await expect(collect(client.batchFiles(BATCH))).rejects.toThrow(/filesMetadata\.0\.downloadURL/);
  });
});

describe('pagination safety', () => {
  it('a token repeated by the next page is an error (no endless loop)', async () => {
    server.setRoute(() => ({ json: { shards: [shard('s')], nextPageToken: 'same' } }));
    await expect(collect(client.shards(BATCH))).rejects.toThrow(/pagination token repeated/);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.query).toEqual({ api_key: KEY, nextPageToken: 'same' });
  });

  it('an empty token ends the listing like a missing one', async () => {
    server.enqueue({ json: { jobs: [], nextPageToken: 'next' } }, { json: { jobs: [], nextPageToken: '' } });
    await expect(collect(client.jobs())).resolves.toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  it('keeps a path prefix of the API URL (e.g. behind a proxy)', async () => {
    const proxied = new RoboflowClient({ apiKey: KEY, workspace: 'acme', apiUrl: `${server.url}/roboflow/` });
    server.enqueue({ json: { count: 3 } });
    await expect(proxied.batchCount(BATCH)).resolves.toBe(3);
    expect(only().pathname).toBe(`/roboflow/data-staging/v1/external/acme/batches/${BATCH}/count`);
  });

  it('a cycle of tokens is an error too', async () => {
    server.enqueue(
      { json: { jobs: [], nextPageToken: 't1' } },
      { json: { jobs: [], nextPageToken: 't2' } },
      { json: { jobs: [], nextPageToken: 't1' } },
    );
    await expect(collect(client.jobs())).rejects.toThrow(/pagination token repeated/);
    expect(server.requests).toHaveLength(3);
  });

  it('an error on a later page rejects the iteration after the earlier pages were yielded', async () => {
    server.enqueue({ json: { tasks: [{ taskId: 't', statusType: 'info' }], nextPageToken: 'x' } }, { status: 404, json: { error: 'gone' } });
    const seen: string[] = [];
    const run = async () => {
      for await (const page of client.stageTasks(JOB, 'processing')) seen.push(...page.map((t) => t.taskId));
    };
    await expect(run()).rejects.toThrow(/HTTP 404: gone/);
    expect(seen).toEqual(['t']);
  });
});

// ---- jobs -------------------------------------------------------------------------------------------------

describe('jobs', () => {
  it('startJob: POST BP/jobs/{id} with name in the query and the exact definition as body', async () => {
    server.enqueue({ json: { status: 'created' } });
    await expect(client.startJob(JOB, definition, 'Night run')).resolves.toBeUndefined();
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${BP}/jobs/${JOB}`);
    expect(req.query).toEqual({ api_key: KEY, name: 'Night run' });
    expectJsonBody(req, definition);
  });

  it('startJob without name sends no name parameter', async () => {
    server.enqueue({ json: {} });
    await client.startJob(JOB, definition);
    const req = only();
    expect(req.query).toEqual({ api_key: KEY });
    expectJsonBody(req, definition);
  });

  it('startJob retried on 503 re-sends the same id and identical definition', async () => {
    server.enqueue({ status: 503 }, { json: {} });
    await client.startJob(JOB, definition, 'n');
    expect(server.requests).toHaveLength(2);
    const [a, b] = server.requests;
    expect(b!.pathname).toBe(a!.pathname);
    expect(b!.text).toBe(a!.text);
    expect(b!.json).toStrictEqual(definition);
  });

  it('startJob 409 (different definition) is not retried and surfaces the server error', async () => {
    server.setRoute(() => ({ status: 409, json: { error: 'job exists with a different definition' } }));
    const err = await client.startJob(JOB, definition).then(
      () => undefined,
      (e: unknown) => e as RemoteError,
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect(err!.status).toBe(409);
    expect(err!.message).toContain('409');
    expect(err!.message).toContain('job exists with a different definition');
    expect(err!.message).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });

  it('jobMetadata: GET BP/jobs/{id}, defaults applied and unknown fields tolerated', async () => {
    server.enqueue({ json: { job: { jobId: JOB, name: 'n', currentStage: 'processing', brandNewField: { x: 1 } } } });
    const meta = await client.jobMetadata(JOB);
    expect(meta).toEqual({ jobId: JOB, name: 'n', currentStage: 'processing', error: false, isTerminal: false, restartParametersOverride: [] });
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.pathname).toBe(`${BP}/jobs/${JOB}`);
    expect(req.query).toEqual({ api_key: KEY });
  });

  it('jobMetadata without jobId is rejected naming job.jobId', async () => {
    server.enqueue({ json: { job: { name: 'n' } } });
    await expect(client.jobMetadata(JOB)).rejects.toThrow(/job\.jobId/);
  });

  it('jobStages: GET BP/jobs/{id}/stages (not paginated)', async () => {
    const stage = { processingStageId: 'processing', processingStageName: 'Processing', tasksNumber: 2, outputBatches: ['o1'], statusType: 'info' };
    server.enqueue({ json: { stages: [stage, { ...stage, processingStageId: 'export', outputBatches: undefined }] } });
    const stages = await client.jobStages(JOB);
    expect(stages.map((s) => [s.processingStageId, s.outputBatches])).toEqual([
      ['processing', ['o1']],
      ['export', []],
    ]);
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.pathname).toBe(`${BP}/jobs/${JOB}/stages`);
    expect(req.query).toEqual({ api_key: KEY });
  });

  it('stageTasks: paginated GET BP/jobs/{id}/stages/{stage}/tasks with the stage id encoded', async () => {
    server.enqueue(
      { json: { tasks: [{ taskId: 't1', statusType: 'info' }], nextPageToken: 'k' } },
      { json: { tasks: [{ taskId: 't2', statusType: 'success' }], nextPageToken: null } },
    );
    const tasks = await collect(client.stageTasks(JOB, 'stage/one two'));
    expect(tasks.map((t) => t.taskId)).toEqual(['t1', 't2']);
    expect(server.requests.map((r) => [r.method, r.pathname, r.query])).toEqual([
      ['GET', `${BP}/jobs/${JOB}/stages/stage%2Fone%20two/tasks`, { api_key: KEY }],
      ['GET', `${BP}/jobs/${JOB}/stages/stage%2Fone%20two/tasks`, { api_key: KEY, nextPageToken: 'k' }],
    ]);
  });

  it('jobLogs: severity on every page', async () => {
    server.enqueue(
      { json: { logs: [{ severity: 'error', payload: { m: 1 } }], nextPageToken: 'l2' } },
      { json: { logs: [{ severity: 'error' }] } },
    );
    const logs = await collect(client.jobLogs(JOB, 'error'));
    expect(logs).toHaveLength(2);
    expect(server.requests.map((r) => [r.method, r.pathname, r.query])).toEqual([
      ['GET', `${BP}/jobs/${JOB}/logs`, { api_key: KEY, severity: 'error' }],
      ['GET', `${BP}/jobs/${JOB}/logs`, { api_key: KEY, severity: 'error', nextPageToken: 'l2' }],
    ]);
  });

  it('jobLogs without severity sends no severity', async () => {
    server.enqueue({ json: { logs: [] } });
    await collect(client.jobLogs(JOB));
    expect(only().query).toEqual({ api_key: KEY });
  });

  it('jobs: paginated GET BP/jobs', async () => {
    server.enqueue({ json: { jobs: [job('j1')], nextPageToken: 'j-next' } }, { json: { jobs: [job('j2')], nextPageToken: null } });
    const all = await collect(client.jobs());
    expect(all.map((j) => j.jobId)).toEqual(['j1', 'j2']);
    expect(server.requests.map((r) => [r.method, r.pathname, r.query])).toEqual([
      ['GET', `${BP}/jobs`, { api_key: KEY }],
      ['GET', `${BP}/jobs`, { api_key: KEY, nextPageToken: 'j-next' }],
    ]);
  });

  it('abortJob: POST BP/jobs/{id}/abort with no body', async () => {
    server.enqueue({ json: { status: 'aborting', message: 'ok' } });
    await expect(client.abortJob(JOB)).resolves.toEqual({ status: 'aborting', message: 'ok' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${BP}/jobs/${JOB}/abort`);
    expect(req.query).toEqual({ api_key: KEY });
    expectNoBody(req);
  });

  it('restartJob without overrides: POST BP/jobs/{id}/restart with no body', async () => {
    server.enqueue({ json: { status: 'restarted' } });
    await client.restartJob(JOB);
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`${BP}/jobs/${JOB}/restart`);
    expect(req.query).toEqual({ api_key: KEY });
    expectNoBody(req);
  });

  it('restartJob with overrides sends them exactly', async () => {
    server.enqueue({ json: {} });
    const overrides: RestartOverrides = {
      type: 'parameters-override-v1',
      computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 1 },
      maxParallelTasks: 4,
      processingTimeoutSeconds: 7_200,
      maxImageFailureRate: 0.1,
    };
    await client.restartJob(JOB, overrides);
    expectJsonBody(only(), overrides);
  });

  it('restartJob with an override object that overrides nothing sends no body', async () => {
    server.enqueue({ json: {} });
    await client.restartJob(JOB, { type: 'parameters-override-v1', maxParallelTasks: undefined });
    expectNoBody(only());
  });
});

// ---- identifiers --------------------------------------------------------------------------------------------

describe('identifier validation happens before any request', () => {
  const badBatches = ['Upper-Case', 'a'.repeat(65), 'has space', 'slash/inside', ''];
  const badJobs = ['a'.repeat(21), 'UPPER', 'x.y'];
  const ref = { imageReferencesURL: 'https://x' };

  const batchCalls: [string, (id: string) => Promise<unknown>][] = [
    ['ingestImageReferences', (id) => client.ingestImageReferences(id, ref)],
    ['ingestVideoReferences', (id) => client.ingestVideoReferences(id, { videoReferencesURL: 'https://x' })],
    ['uploadImage', (id) => client.uploadImage(id, 'a.jpg', new Uint8Array([1]))],
    ['requestVideoUpload', (id) => client.requestVideoUpload(id, 'a.mp4')],
    ['requestImagesArchiveUpload', (id) => client.requestImagesArchiveUpload(id)],
    ['roboqlIngest', (id) => client.roboqlIngest(id, { query: 'q' })],
    ['batchCount', (id) => client.batchCount(id)],
    ['shards', (id) => collect(client.shards(id))],
    ['batchMetadata', (id) => client.batchMetadata(id)],
    ['batchParts', (id) => client.batchParts(id)],
    ['batchFiles', (id) => collect(client.batchFiles(id))],
  ];
  const jobCalls: [string, (id: string) => Promise<unknown>][] = [
    ['startJob', (id) => client.startJob(id, definition)],
    ['jobMetadata', (id) => client.jobMetadata(id)],
    ['jobStages', (id) => client.jobStages(id)],
    ['stageTasks', (id) => collect(client.stageTasks(id, 'processing'))],
    ['jobLogs', (id) => collect(client.jobLogs(id))],
    ['abortJob', (id) => client.abortJob(id)],
    ['restartJob', (id) => client.restartJob(id)],
  ];

  it.each(batchCalls)('%s rejects (returns a rejected promise) for invalid batch ids without sending', async (_name, call) => {
    server.setRoute(() => ({ json: {} }));
    for (const id of badBatches) {
      let result: Promise<unknown>;
      try {
        result = call(id);
      } catch (err) {
        throw new Error(`threw synchronously for ${JSON.stringify(id)} instead of rejecting: ${(err as Error).message}`);
      }
      await expect(result).rejects.toThrow(/lowercase letters, digits, - and _, at most 64 characters/);
    }
    expect(server.requests).toHaveLength(0);
  });

  it.each(jobCalls)('%s rejects (returns a rejected promise) for invalid job ids without sending', async (_name, call) => {
    server.setRoute(() => ({ json: {} }));
    for (const id of badJobs) {
      let result: Promise<unknown>;
      try {
        result = call(id);
      } catch (err) {
        throw new Error(`threw synchronously for ${JSON.stringify(id)} instead of rejecting: ${(err as Error).message}`);
      }
      await expect(result).rejects.toThrow(/at most 20 characters/);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('accepts the longest valid ids (64-char batch, 20-char job)', async () => {
    server.setRoute(() => ({ json: { count: 1, job: job('x') } }));
    const batch = 'a'.repeat(64);
    const jobId = 'j'.repeat(20);
    await client.batchCount(batch);
    await client.jobMetadata(jobId);
    expect(server.requests.map((r) => r.pathname)).toEqual([`${DS}/batches/${batch}/count`, `${BP}/jobs/${jobId}`]);
  });
});

// ---- transport --------------------------------------------------------------------------------------------

describe('transport', () => {
  it('every call carries api_key; errors name the path but never the key', async () => {
    server.setRoute(() => ({ status: 404, json: { error: 'Batch not found' } }));
    const err = await client.batchMetadata(BATCH).then(
      () => undefined,
      (e: unknown) => e as RemoteError,
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect(err!.status).toBe(404);
    expect(err!.message).toBe(`Roboflow GET ${DS}/batches/${BATCH} failed: HTTP 404: Batch not found`);
    expect(only().query.api_key).toBe(KEY);
  });

  it('timeouts: 120 s for reference ingests, 60 s for other calls', async () => {
    const agent = new RecordingAgent();
    try {
      const c = new RoboflowClient({ apiKey: KEY, workspace: 'acme', apiUrl: server.url, dispatcher: agent });
      server.setRoute((req) => {
        if (req.pathname.endsWith('/count')) return { json: { count: 1 } };
        return { json: { ingestId: 'i' } };
      });
      await c.ingestImageReferences(BATCH, { imageReferencesURL: 'https://x' });
      await c.ingestVideoReferences(BATCH, { videoReferencesURL: 'https://x' });
      await c.batchCount(BATCH);
      await c.startJob(JOB, definition);
      await c.abortJob(JOB);
      expect(agent.dispatched.map((o) => [o.method, o.headersTimeout, o.bodyTimeout])).toEqual([
        ['POST', 120_000, 120_000],
        ['POST', 120_000, 120_000],
        ['GET', 60_000, 60_000],
        ['POST', 60_000, 60_000],
        ['POST', 60_000, 60_000],
      ]);
      expect(server.requests).toHaveLength(5);
    } finally {
      await agent.close();
    }
  });

  it('workspace slug is URL-encoded in both service prefixes', async () => {
    const c = new RoboflowClient({ apiKey: KEY, workspace: 'my ws', apiUrl: server.url });
    server.setRoute((req) => (req.pathname.includes('/jobs/') ? { json: { job: job(JOB) } } : { json: { count: 3 } }));
    await c.batchCount(BATCH);
    await c.jobMetadata(JOB);
    expect(server.requests.map((r) => r.pathname)).toEqual([
      `/data-staging/v1/external/my%20ws/batches/${BATCH}/count`,
      `/batch-processing/v1/external/my%20ws/jobs/${JOB}`,
    ]);
  });
});
