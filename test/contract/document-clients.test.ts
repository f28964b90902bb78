import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExtendClient } from '../../shared/targets/extend/client';
import { LlamaCloudClient } from '../../shared/targets/llamacloud/client';
import { parseMultipart, startRecordingServer, type RecordingServer } from '../support/recording-server';

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const only = () => {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
};

describe('Extend client contract', () => {
  const client = () => new ExtendClient({ apiKey: 'ek_secret', apiUrl: server.url, workspaceId: 'ws_1', retry: { baseDelayMs: 1, maxDelayMs: 5 } });

  it('submits a batch with the processor, inputs and metadata, authenticated and versioned', async () => {
    server.enqueue({ json: { object: 'batch_run', id: 'bpr_1', status: 'PENDING', runCount: 1, extra: true } });
    const batch = await client().createBatch('extract', { id: 'ex_1', version: 'latest' }, [
      { file: { url: 'https://bucket.s3.amazonaws.com/a.pdf?X-Amz-Signature=abc', name: 'a.pdf' }, metadata: { key: 'in/a.pdf' } },
    ]);
    expect(batch).toEqual({ object: 'batch_run', id: 'bpr_1', status: 'PENDING', runCount: 1 });
    const req = only();
    expect([req.method, req.pathname]).toEqual(['POST', '/extract_runs/batch']);
    expect(req.headers.authorization).toBe('Bearer ek_secret');
    expect(req.headers['x-extend-api-version']).toBe('2026-02-09');
    expect(req.headers['x-extend-workspace-id']).toBe('ws_1');
    expect(req.json).toEqual({
      extractor: { id: 'ex_1', version: 'latest' },
      inputs: [{ file: { url: 'https://bucket.s3.amazonaws.com/a.pdf?X-Amz-Signature=abc', name: 'a.pdf' }, metadata: { key: 'in/a.pdf' } }],
    });
  });

  it('uses the processor field of each kind and refuses empty or oversized batches before sending', async () => {
    server.setRoute(() => ({ json: { id: 'bpr_2', status: 'PENDING' } }));
    await client().createBatch('classify', { id: 'cl_1' }, [{ file: { url: 'https://x.test/a' } }]);
    await client().createBatch('split', { id: 'sp_1' }, [{ file: { url: 'https://x.test/a' } }]);
    expect(server.requests.map((r) => [r.pathname, Object.keys(r.json as object)[0]])).toEqual([
      ['/classify_runs/batch', 'classifier'],
      ['/split_runs/batch', 'splitter'],
    ]);
    await expect(client().createBatch('extract', { id: 'ex_1' }, [])).rejects.toThrow(/1 to 1000 inputs/);
    const tooMany = Array.from({ length: 1001 }, () => ({ file: { url: 'https://x.test/a' } }));
    await expect(client().createBatch('extract', { id: 'ex_1' }, tooMany)).rejects.toThrow(/got 1001/);
    expect(server.requests).toHaveLength(2);
  });

  it('pages through the runs of a batch with batchId and nextPageToken, and reads one run', async () => {
    server.enqueue(
      { json: { object: 'list', data: [{ id: 'exr_1', status: 'PROCESSED', metadata: { key: 'a' } }], nextPageToken: 'p2' } },
      { json: { object: 'list', data: [{ id: 'exr_2', status: 'FAILED', failureReason: 'FAILED_TO_PROCESS_FILE' }] } },
      { json: { object: 'extract_run', id: 'exr_1', status: 'PROCESSED', output: { value: { total: 3 } } } },
    );
    const runs = [];
    for await (const page of client().batchRuns('extract', 'bpr_1')) runs.push(...page.map((r) => r.id));
    expect(runs).toEqual(['exr_1', 'exr_2']);
    expect(server.requests.map((r) => [r.pathname, r.query])).toEqual([
      ['/extract_runs', { batchId: 'bpr_1' }],
      ['/extract_runs', { batchId: 'bpr_1', nextPageToken: 'p2' }],
    ]);
    expect((await client().run('extract', 'exr_1')).output).toEqual({ value: { total: 3 } });
  });

  it('keeps the API key out of errors and does not retry a 400', async () => {
    server.enqueue({ status: 400, json: { code: 'INVALID_REQUEST', message: 'bad token ek_secret', retryable: false } });
    await expect(client().batch('bpr_1')).rejects.toThrow(/HTTP 400: bad token \[redacted\]/);
    expect(server.requests).toHaveLength(1);
  });
});

describe('LlamaCloud client contract', () => {
  const client = () => new LlamaCloudClient({ apiKey: 'llx_secret', apiUrl: server.url, projectId: 'prj-1', retry: { baseDelayMs: 1, maxDelayMs: 5 } });

  it('creates an ephemeral directory and streams a file into it as multipart', async () => {
    server.enqueue({ json: { id: 'dir-1', name: 'bb-run-0', type: 'ephemeral' } }, { json: { id: 'dfl-1', unique_id: 'in__a.pdf' } });
    expect((await client().createDirectory('bb-run-0')).id).toBe('dir-1');
    const file = await client().upload('dir-1', {
      open: async () => Readable.from([Buffer.from('%PDF-'), Buffer.from('1.7')]),
      displayName: 'a.pdf',
      uniqueId: 'in__a.pdf',
      metadata: { key: 'in/a.pdf' },
    });
    expect(file.id).toBe('dfl-1');
    const [dir, upload] = server.requests;
    expect([dir!.method, dir!.pathname, dir!.query, dir!.json]).toEqual(['POST', '/api/v1/beta/directories', { project_id: 'prj-1' }, { name: 'bb-run-0', type: 'ephemeral' }]);
    expect(dir!.headers.authorization).toBe('Bearer llx_secret');
    expect(upload!.pathname).toBe('/api/v1/beta/directories/dir-1/files/upload');
    const form = await parseMultipart(upload!);
    expect(Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === 'string'))).toEqual({
      display_name: 'a.pdf',
      external_file_id: 'in__a.pdf',
      unique_id: 'in__a.pdf',
      metadata: '{"key":"in/a.pdf"}',
    });
    expect(await (form.get('upload_file') as Blob).text()).toBe('%PDF-1.7');
  });

  it('reopens the upload stream for a retry after a 503', async () => {
    server.enqueue({ status: 503, json: { detail: 'busy' } }, { json: { id: 'dfl-2' } });
    let opened = 0;
    await client().upload('dir-1', { open: async () => (opened++, Readable.from([Buffer.from('abc')])), displayName: 'b.txt', uniqueId: 'b' });
    expect(opened).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it('creates a batch with the job and a signed JSON webhook, and reads results and jobs', async () => {
    server.enqueue(
      { json: { id: 'bat-1', status: 'PENDING' } },
      { json: { id: 'bat-1', status: 'COMPLETED', source_directory_id: 'dir-1', results: [{ source_directory_file_id: 'dfl-1', job_reference: { type: 'parse_v2', id: 'pjb-1' } }] } },
      { json: { job: { id: 'pjb-1', status: 'COMPLETED' }, markdown_full: '# A' } },
    );
    await client().createBatch('dir-1', { type: 'parse_v2', configurationId: 'cfg-1' }, { url: 'https://bridge.example/webhooks/t', signingSecret: 's3cret' });
    const batch = await client().batch('bat-1', true);
    const job = await client().parseJob('pjb-1');
    expect(server.requests[0]!.json).toEqual({
      source_directory_id: 'dir-1',
      config: { job: { type: 'parse_v2', configuration_id: 'cfg-1' } },
      webhook_configurations: [
        {
          webhook_url: 'https://bridge.example/webhooks/t',
          webhook_events: ['batch.success', 'batch.error', 'batch.cancelled'],
          webhook_output_format: 'json',
          webhook_signing_secret: 's3cret',
        },
      ],
    });
    expect(server.requests[1]!.query).toEqual({ project_id: 'prj-1', expand: 'results' });
    expect(server.requests[2]!.query).toEqual({ project_id: 'prj-1', expand: 'markdown' });
    expect(batch.results?.[0]?.job_reference?.id).toBe('pjb-1');
    expect(job.markdown_full).toBe('# A');
  });
});
