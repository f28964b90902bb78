import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';
import { startS3Proxy } from '../support/s3-proxy';

const BUCKET = 'awkward';
/** A carriage-return key with its line-feed twin, and two keys that differ only in case. */
const KEYS = ['in/a\r.jpg', 'in/a\n.jpg', 'in/Photo.jpg', 'in/photo.jpg'];

describe('a run over keys with a carriage return, a line-feed twin and a case twin', () => {
  let stack: LocalStack;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 10, jobStageDelayMs: 10 } });
    for (const key of KEYS) await stack.store(BUCKET).write(key, fakeImage(key));
    // The proxy makes the local server answer URL-encoded listings as S3 does.
    proxy = await startS3Proxy(stack.s3.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await stack.close();
  });

  it('submits every object under its exact key and a distinct name, and downloads each one', async () => {
    const result = await runCli(
      [
        'run',
        '--source', `s3://${BUCKET}/in/`,
        '--dest', `s3://${BUCKET}/out/`,
        '--workspace', SANDBOX_WORKSPACE,
        '--workflow', SANDBOX_WORKFLOW,
        '--poll-interval', '0.05',
        '--timeout', '60',
        '--state-dir', await tempDir('bb-awkward-'),
        '--allow-http-references',
        '--quiet',
      ],
      { ...stack.env, AWS_ENDPOINT_URL_S3: proxy.url },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ status: 'completed', submitted: 4, ingested: 4, failed: { total: 0 } });

    const runId = result.summary!.runId;
    const names = (await text(await stack.store(BUCKET).read(`out/${runId}/names.jsonl`)))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; key: string });
    expect(names.map((n) => n.key).sort()).toEqual([...KEYS].sort());
    // Distinct even on a case-insensitive file system.
    expect(new Set(names.map((n) => n.name.toLowerCase())).size).toBe(KEYS.length);

    // The target fetched each object through its own signed URL (the CR key's path carries %0D).
    const downloads = proxy.requests.filter((r) => r.method === 'GET' && r.query.has('X-Amz-Signature') && r.path.startsWith(`/${BUCKET}/in/`));
    const fetched = downloads.map((r) => decodeURIComponent(r.path.slice(`/${BUCKET}/`.length)));
    expect(fetched.sort()).toEqual([...KEYS].sort());
    for (const d of downloads) expect(d.status).toBe(200);
  });
});
