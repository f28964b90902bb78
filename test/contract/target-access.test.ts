import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors';
import { ExtendClient } from '../../shared/targets/extend/client';
import { ExtendTarget } from '../../shared/targets/extend/target';
import { LlamaCloudClient } from '../../shared/targets/llamacloud/client';
import { LlamaCloudTarget } from '../../shared/targets/llamacloud/target';
import { RoboflowClient } from '../../shared/targets/roboflow/client';
import { RoboflowTarget } from '../../shared/targets/roboflow/target';
import { startRecordingServer, type RecordingServer } from '../support/recording-server';

const KEY = 'secret-key-0123';
const fast = { baseDelayMs: 1, maxDelayMs: 5 };

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

/** Roboflow's `GET /?api_key=…` as the real API answers it for a private key (welcome text plus the slug). */
const rootAnswer = (workspace?: string) => ({
  welcome: 'Welcome to the Roboflow API.',
  instructions: 'You are successfully authenticated.',
  docs: 'https://docs.roboflow.com',
  ...(workspace === undefined ? {} : { workspace }),
});

describe('Roboflow access check (GET /)', () => {
  const target = () => new RoboflowTarget(new RoboflowClient({ apiKey: KEY, workspace: 'acme', apiUrl: server.url, retry: fast }));

  it('one GET / with only api_key; the key of the run\'s workspace passes', async () => {
    server.enqueue({ json: rootAnswer('acme') });
    await expect(target().checkAccess()).resolves.toBeUndefined();
    expect(server.requests.map((r) => [r.method, r.pathname, r.query])).toEqual([['GET', '/', { api_key: KEY }]]);
  });

  it('a key of another workspace: a workspace problem naming the key\'s workspace', async () => {
    server.enqueue({ json: rootAnswer('globex') });
    await expect(target().checkAccess()).resolves.toEqual({
      setting: 'workspace',
      expected: 'the workspace the API key belongs to ("globex")',
      received: 'acme',
    });
  });

  it('an answer that names no workspace (not a private key): an api-key problem', async () => {
    server.enqueue({ json: rootAnswer() });
    await expect(target().checkAccess()).resolves.toMatchObject({ setting: 'api-key', expected: expect.stringContaining('private Roboflow API key') });
  });

  it.each([401, 403])('HTTP %i (a refused key, error object as the body): an api-key problem, the key never in it', async (status) => {
    server.enqueue({ status, json: { error: { message: `This API key (${KEY}) does not exist (or has been revoked).`, status, type: 'OAuthException' } } });
    const problem = await target().checkAccess();
    expect(problem).toEqual({ setting: 'api-key', expected: `an API key Roboflow accepts (it answered HTTP ${status})` });
    expect(JSON.stringify(problem)).not.toContain(KEY);
  });

  it('503 then 200: retried like every call, then checked', async () => {
    server.enqueue({ status: 503, headers: { 'retry-after': '0' }, json: { error: 'busy' } }, { json: rootAnswer('acme') });
    await expect(target().checkAccess()).resolves.toBeUndefined();
    expect(server.requests).toHaveLength(2);
  });

  it('429 until retries run out: thrown as a transient remote error, not an access problem', async () => {
    server.setRoute(() => ({ status: 429, headers: { 'retry-after': '0' }, json: { error: 'slow down' } }));
    const err = await target().checkAccess().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).retryable).toBe(true);
    expect((err as RemoteError).message).toMatch(/^Roboflow GET \/ failed after 6 attempts: HTTP 429/);
  });

  it('500 (a server fault): thrown, not an access problem', async () => {
    server.enqueue({ status: 500, json: { error: 'oops' } });
    await expect(target().checkAccess()).rejects.toThrow(/Roboflow GET \/ failed: HTTP 500/);
  });
});

describe('Extend access check', () => {
  const target = () =>
    new ExtendTarget(new ExtendClient({ apiKey: KEY, apiUrl: server.url, retry: fast }), { kind: 'classify', id: 'cl_1' });

  it('one list request of at most one run of the processor\'s kind, authenticated by bearer key', async () => {
    server.enqueue({ json: { object: 'list', data: [] } });
    await expect(target().checkAccess()).resolves.toBeUndefined();
    const [req] = server.requests;
    expect([req!.method, req!.pathname, req!.query]).toEqual(['GET', '/classify_runs', { maxPageSize: '1' }]);
    expect(req!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('401: an api-key problem', async () => {
    server.enqueue({ status: 401, json: { code: 'UNAUTHORIZED', message: 'bad key', retryable: false } });
    await expect(target().checkAccess()).resolves.toEqual({ setting: 'api-key', expected: 'an API key Extend accepts (it answered HTTP 401)' });
  });
});

describe('LlamaCloud access check', () => {
  const target = () =>
    new LlamaCloudTarget(new LlamaCloudClient({ apiKey: KEY, apiUrl: server.url, projectId: 'prj-1', retry: fast }), {
      job: { type: 'parse_v2', configurationId: 'cfg-1' },
    });

  it('one list request of at most one batch in the project', async () => {
    server.enqueue({ json: { items: [], next_page_token: null } });
    await expect(target().checkAccess()).resolves.toBeUndefined();
    const [req] = server.requests;
    expect([req!.method, req!.pathname, req!.query]).toEqual(['GET', '/api/v2/batches', { project_id: 'prj-1', page_size: '1' }]);
  });

  it('401: an api-key problem', async () => {
    server.enqueue({ status: 401, json: { detail: 'Invalid authentication credentials' } });
    await expect(target().checkAccess()).resolves.toEqual({ setting: 'api-key', expected: 'an API key LlamaCloud accepts (it answered HTTP 401)' });
  });
});
