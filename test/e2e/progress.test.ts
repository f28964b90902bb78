import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { main } from '../../cli/main';
import { runCli } from '../support/cli';
import { spawnCli } from '../support/cli-process';

const BUCKET = 'progress';

/** The JSON lines of a stderr (every line of it, when the format is JSON). */
function jsonLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('progress of every phase, off a terminal (the real CLI, stderr a pipe)', () => {
  let stack: LocalStack;
  let seeded: SeededBucket;

  beforeAll(async () => {
    // Ingest and each job stage take long enough for several looks at 0.1 s.
    stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 600, jobStageDelayMs: 1200 } });
    seeded = await seedDemoBucket(stack.store(BUCKET));
  });
  afterAll(() => stack.close());

  const runArgs = async (dest: string, ...extra: string[]) => {
    const stateDir = await mkdtemp(join(tmpdir(), 'bb-progress-'));
    const port = await freePort();
    const argv = [
      'run',
      '--source', `s3://${BUCKET}/${seeded.prefix}`,
      '--dest', `s3://${BUCKET}/${dest}/`,
      '--workspace', SANDBOX_WORKSPACE,
      '--workflow', SANDBOX_WORKFLOW,
      '--webhook-url', `http://127.0.0.1:${port}`,
      '--webhook-listen', `127.0.0.1:${port}`,
      '--progress-interval', '0.1',
      '--timeout', '60',
      '--state-dir', stateDir,
      ...extra,
    ];
    return { argv, stateDir };
  };

  it('writes JSON progress lines for ingest, the job (stage, tasks, percent) and export; status --json of the live run carries the target\'s progress', async () => {
    const { argv, stateDir } = await runArgs('json');
    const cli = spawnCli(argv, stack.env);
    let stderr = '';
    cli.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const shown = await cli.stderrShows(/"phase":"job","stage":"processing"/, 30_000);
    expect(shown, stderr).toBe(true);
    const runId = /"message":"run started","runId":"([a-z0-9-]+)"/.exec(stderr)![1]!;
    const status = await runCli(['status', runId, '--json', '--state-dir', stateDir], stack.env);
    let text = '';
    const textCode = await main(['status', runId, '--state-dir', stateDir], { env: stack.env, stdout: { isTTY: true, write: (s: string) => (text += s) }, stderr: { write: () => true } });
    const result = await cli.exited(60_000);
    expect(result.code, result.stderr).toBe(0);

    const lines = jsonLines(result.stderr);
    const ingest = lines.filter((l) => l.phase === 'ingest');
    expect(ingest.length).toBeGreaterThan(0);
    expect(ingest.at(-1)).toMatchObject({ level: 'info', expected: seeded.images.length, failed: 0 });
    expect(ingest.at(-1)!.message).toMatch(/^ingest: ingested \d+ \/ 32/);
    const job = lines.filter((l) => l.phase === 'job' && l.unit === 'tasks');
    expect(job.map((l) => l.stage)).toContain('processing');
    expect(job.map((l) => l.stage)).toContain('export');
    const percents = job.filter((l) => l.stage === 'processing').map((l) => l.percent as number);
    expect(Math.max(...percents)).toBeGreaterThan(Math.min(...percents));
    expect(job[0]).toMatchObject({ stage: 'processing', done: 0, total: 1, stageNumber: 1, stages: 2 });
    expect(job.some((l) => typeof l.etaSeconds === 'number')).toBe(true);
    expect(job.find((l) => typeof l.etaSeconds === 'number')!.message).toMatch(/^job: processing \(stage 1\/2\) · tasks 0 \/ 1 · \d+% · ETA \d+s$/);
    const exported = lines.filter((l) => l.phase === 'export').at(-1)!;
    expect(exported).toMatchObject({ files: result.summary!.exported.files, bytes: result.summary!.exported.bytes });
    expect(exported.results).toBeGreaterThan(0);
    expect(exported.results).toBe(exported.resultsTotal);

    expect(status.code, status.stderr).toBe(0);
    const live = JSON.parse(status.stdout) as { status: string; progress: { phase: string; job?: Record<string, unknown> } };
    expect(live.status).toBe('in-progress');
    expect(live.progress.phase).toBe('processing');
    expect(live.progress.job).toMatchObject({ stage: expect.stringMatching(/^(processing|export)$/), unit: 'tasks', total: expect.any(Number) });
    // The same for people on a terminal.
    expect(textCode).toBe(0);
    expect(text).toMatch(new RegExp(`^run ${runId}: in-progress \\(processing\\)\n`));
    expect(text).toMatch(/^ {2}listed 34 · submitted 32 · ingested 32 · failed 0$/m);
    expect(text).toMatch(/^ {2}job: (processing \(stage 1\/2\)|export \(stage 2\/2\)) · tasks \d \/ \d · \d+%/m);
  }, 60_000);

  it('writes the same progress as text lines with --log-format text, and no JSON; export <jobId> reports its result files', async () => {
    const { argv, stateDir } = await runArgs('text', '--log-format', 'text');
    const result = await runCli(argv, stack.env);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    const logLine = /^\d\d:\d\d:\d\d (INFO |WARN |ERROR) /;
    expect(lines.filter((l) => !logLine.test(l)).join('\n')).toMatch(/^results: /);
    expect(result.stderr).toMatch(/^\d\d:\d\d:\d\d INFO  ingest: ingested \d+ \/ 32 \(\d+%\) · 0 failed  phase=ingest ingested=\d+ expected=32 failed=0$/m);
    expect(result.stderr).toMatch(/^\d\d:\d\d:\d\d INFO  job: processing \(stage 1\/2\) · tasks \d \/ 1 · \d+%.*  phase=job stage=processing unit=tasks done=\d total=1 percent=\d+/m);
    expect(result.stderr).toMatch(/^\d\d:\d\d:\d\d INFO  export: result files \d+ \/ \d+ · \d+ files stored, .*  phase=export /m);
    expect(result.stderr).toMatch(/^\d\d:\d\d:\d\d WARN  object over the target's size limit skipped  key=incoming\/huge\/panorama.png bytes=\d+$/m);

    const again = await runCli(['export', result.summary!.target.jobId, '--dest', `s3://${BUCKET}/again/`, '--state-dir', stateDir, '--log-format', 'json'], stack.env);
    expect(again.code, again.stderr).toBe(0);
    const last = jsonLines(again.stderr).filter((l) => l.phase === 'export').at(-1);
    expect(last).toMatchObject({ results: expect.any(Number), resultsTotal: expect.any(Number), files: again.summary!.exported.files, bytes: again.summary!.exported.bytes });
    expect(last!.results).toBe(last!.resultsTotal);
    expect(last!.results).toBeGreaterThan(0);
  }, 60_000);
});
