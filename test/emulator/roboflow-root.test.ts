import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoboflowEmulator, type RunningEmulator } from '../../sandbox/roboflow-emulator/index';

const API_KEY = 'root-key-9d2e';

/** The API root answers which workspace a key belongs to, as Roboflow's `GET /?api_key=…` does. */
describe('Roboflow emulator GET /', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startRoboflowEmulator({ apiKey: API_KEY, workspace: 'acme' });
  });
  afterAll(() => emu.close());

  const get = async (path: string) => {
    const res = await fetch(`${emu.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('the emulator\'s key: 200 with the workspace slug beside the welcome text', async () => {
    const { status, body } = await get(`/?api_key=${API_KEY}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ workspace: 'acme', welcome: expect.any(String), docs: expect.any(String) });
  });

  it('a wrong or missing key: 401 with an error, the key redacted from the record', async () => {
    expect(await get('/?api_key=nope')).toEqual({ status: 401, body: { error: 'missing or invalid api_key' } });
    expect((await get('/')).status).toBe(401);
    const recorded = emu.requests.filter((r) => r.path === '/');
    expect(recorded.map((r) => r.query.api_key)).toEqual(['[redacted]', '[redacted]', undefined]);
  });

  it('paths naming another workspace still answer 404 (only the root is workspace-free)', async () => {
    const { status } = await get(`/data-staging/v1/external/other/batches?api_key=${API_KEY}`);
    expect(status).toBe(404);
  });
});
