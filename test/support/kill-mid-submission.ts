import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { LocalStack } from '../../sandbox/local-stack';
import { RunRecord } from '../../shared/state/run-record';
import { spawnCli } from './cli-process';

const INGEST_PATH = 'bulk-upload/image-references';

/**
 * Starts the real CLI with `argv`, lets it submit two chunks, holds the third ingest request
 * ("503, retry in 60 s") so the process sits in the middle of submitting, and SIGKILLs it there.
 * Returns the killed run's id (the only run in `stateDir`) and a reader of its record.
 */
export async function killAtThirdIngest(stack: LocalStack, argv: string[], stateDir: string): Promise<{ runId: string; readRun: () => Promise<RunRecord> }> {
  const ingests = () => stack.roboflow.requests.filter((r) => r.method === 'POST' && r.path.includes(INGEST_PATH));
  const before = ingests().length;
  const held = () => ingests().slice(before).some((r) => r.status === 503);
  stack.roboflow.setFaults({ failures: [{ pathIncludes: INGEST_PATH, method: 'POST', status: 503, count: 1000, after: 2, retryAfterSeconds: 60 }] });
  const cli = spawnCli(argv, stack.env);
  try {
    const deadline = Date.now() + 30_000;
    while (!held() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(held(), 'the third ingest request never arrived').toBe(true);
  } finally {
    cli.child.kill('SIGKILL');
  }
  await cli.exited(10_000);
  stack.roboflow.setFaults({});

  const [runId] = await readdir(join(stateDir, 'runs'));
  const readRun = async () => RunRecord.parse(JSON.parse(await readFile(join(stateDir, 'runs', runId!, 'run.json'), 'utf8')));
  return { runId: runId!, readRun };
}
