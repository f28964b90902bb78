import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlamaCloudEmulator, type RunningLlamaEmulator } from '../../sandbox/llamacloud-emulator';
import type { RunRecord } from '../../shared/state/run-record';
import { LlamaCloudClient } from '../../shared/targets/llamacloud/client';
import { directoryName, LlamaCloudTarget } from '../../shared/targets/llamacloud/target';
import type { ChunkSubmission } from '../../shared/targets/port';

/**
 * A chunk's submission that was cut off (the function timed out, a call failed) is repeated by the
 * next delivery before the run recorded it: it must finish what the first attempt started, not
 * create a second directory, upload files twice or start a second batch.
 */
describe('LlamaCloud: a repeated chunk submission', () => {
  let files: Server;
  let filesUrl: string;
  let emu: RunningLlamaEmulator;
  const run = { runId: 'r-1', nonce: 'n-one', createdAt: '2026-11-23T10:00:00.000Z' } as RunRecord;

  beforeAll(async () => {
    files = createServer((req, res) => res.end(`bytes of ${req.url}`));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    emu = await startLlamaCloudEmulator({ apiKey: 'llx-test', jobDelayMs: 5 });
  });
  afterAll(async () => {
    await emu.close();
    await new Promise<void>((resolve) => files.close(() => resolve()));
  });

  const target = () =>
    new LlamaCloudTarget(new LlamaCloudClient({ apiKey: 'llx-test', apiUrl: emu.url, retry: { baseDelayMs: 1, maxDelayMs: 5 } }), {
      job: { type: 'parse_v2', configurationId: 'cfg-PARSE_AGENTIC' },
      uploadConcurrency: 1,
    });
  const chunk = (ingestId: string, count: number): ChunkSubmission => ({
    ingestId,
    referencesUrl: `${filesUrl}/unused.jsonl`,
    references: Array.from({ length: count }, (_, i) => ({ name: `doc-${i}.pdf`, key: `in/doc-${i}.pdf`, url: `${filesUrl}/doc-${i}.pdf` })),
  });
  const posts = (ingestId: string, since: number, of: Pick<RunRecord, 'nonce' | 'createdAt'> = run) => {
    const made = emu.requests.slice(since).filter((r) => r.method === 'POST');
    return {
      directories: made.filter((r) => r.path.endsWith('/directories') && (r.body as { name: string }).name === directoryName(of, ingestId)).length,
      uploads: made.filter((r) => r.path.endsWith('/files/upload') && r.status < 300).length,
      batches: made.filter((r) => r.path.endsWith('/api/v2/batches') && r.status < 300).length,
    };
  };

  it('finishes the uploads a failed attempt left and creates one batch', async () => {
    const since = emu.requests.length;
    // The third upload fails for good (500 is not retried): the attempt stops after two files.
    emu.setFaults({ failures: [{ pathIncludes: '/files/upload', method: 'POST', status: 500, count: 1, after: 2 }] });
    await expect(target().submitChunk(run, chunk('bb-r-1-0', 5))).rejects.toThrow(/500/);
    expect(posts('bb-r-1-0', since)).toEqual({ directories: 1, uploads: 2, batches: 0 });

    emu.setFaults({});
    const receipt = await target().submitChunk(run, chunk('bb-r-1-0', 5));
    expect(receipt).toMatchObject({ duplicated: false, ingested: true, ref: expect.stringMatching(/^bat-/) });
    expect(posts('bb-r-1-0', since)).toEqual({ directories: 1, uploads: 5, batches: 1 });
  });

  it('never adopts what another deployment created for a run of the same id', async () => {
    const first = await target().submitChunk(run, chunk('bb-r-1-2', 2));
    // Same scheduled run id (same source id and tick), created in the same millisecond by another
    // deployment sharing the project: only the nonce differs.
    const other = { ...run, nonce: 'n-two' } as RunRecord;
    const since = emu.requests.length;
    const theirs = await target().submitChunk(other, chunk('bb-r-1-2', 2));
    expect(theirs).toMatchObject({ duplicated: false });
    expect(theirs.ref).not.toBe(first.ref);
    expect(posts('bb-r-1-2', since, other)).toEqual({ directories: 1, uploads: 2, batches: 1 });
  });

  it('returns the batch an earlier attempt created, marked duplicated, without touching anything', async () => {
    const first = await target().submitChunk(run, chunk('bb-r-1-1', 3));
    const since = emu.requests.length;
    const again = await target().submitChunk(run, chunk('bb-r-1-1', 3));
    expect(again).toEqual({ ...first, duplicated: true });
    expect(posts('bb-r-1-1', since)).toEqual({ directories: 0, uploads: 0, batches: 0 });
  });
});
