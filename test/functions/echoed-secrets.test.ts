import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { REMOTE_TEXT_MAX_CHARS } from '../../shared/scrub-secrets';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';

// Deployed, the functions read their secrets from Secrets Manager: each one read is registered,
// so a remote message that quotes it bare (no URL or field name around it) is still scrubbed.

describe('deployed: a per-file failure message quoting the API key and the signed input URL', () => {
  let h: ServerlessHarness;
  let apiKey: string;
  const tick = new Date('2026-11-23T10:00:00Z');
  const runId = scheduledRunId('docs', tick);

  beforeAll(async () => {
    h = await startServerlessHarness({ target: 'extend', config: { referencesPerFile: 5, listPageSize: 5 } });
    const secrets = new SecretsManagerClient({ endpoint: h.aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    apiKey = (await secrets.send(new GetSecretValueCommand({ SecretId: h.env.TARGET_API_KEY_SECRET_ARN }))).SecretString!;
    secrets.destroy();
    for (const key of ['incoming/good.pdf', 'incoming/broken.pdf']) await h.stack.store('media').write(key, `text of ${key}`);
  });
  afterAll(() => h.close());

  it('leaves neither in the run record (DynamoDB), summary.json or failed.jsonl, and bounds the reason', async () => {
    h.extend!.setFaults({ failUrlsMatching: /broken/, failureMessage: (url) => `Could not read ${url} (key ${apiKey}) ${'more '.repeat(2000)}` });
    await h.main.scheduledRun({ sourceId: 'docs', time: tick.toISOString(), id: 'evt-1' }, h.context());
    await h.pump(async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(runId))?.phase ?? ''), 20_000);

    const run = (await h.main.runtime.state.getRun(runId))!;
    expect(run.phase).toBe('failed');
    const inputs = h.extend!.requests.flatMap((r) => (r.body as { inputs?: Array<{ file: { url: string } }> })?.inputs ?? []);
    const signature = new URL(inputs.map((i) => i.file.url).find((u) => u.includes('broken'))!).searchParams.get('X-Amz-Signature')!;
    expect(signature).toMatch(/^[0-9a-f]{64}$/);

    const read = async (name: string) => text(await h.stack.store('results').read(`out/${runId}/${name}`));
    const failedLines = (await read('failed.jsonl')).trim().split('\n').map((l) => JSON.parse(l));
    expect(failedLines).toEqual([expect.objectContaining({ type: 'FAILED_TO_PROCESS_FILE', reason: expect.stringMatching(/^Could not read http.* \(key \[redacted\]\) more/) })]);
    expect(failedLines[0].reason.length).toBeLessThanOrEqual(REMOTE_TEXT_MAX_CHARS);
    const found = { run: JSON.stringify(run), summary: await read('summary.json'), failed: JSON.stringify(failedLines) };
    for (const [where, content] of Object.entries(found)) {
      expect(content.includes(apiKey.slice(-16)), `${where} holds the API key`).toBe(false);
      expect(content.includes(signature.slice(0, 16)), `${where} holds the signature`).toBe(false);
    }
  });
});
