import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main';
import { formatBytes } from '../cli/progress-view';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack } from './local-stack';
import { seedDemoBucket } from './seed';

const BUCKET = 'demo-media';

/**
 * The main job on a fresh machine: a local S3 server and a Roboflow emulator on loopback, a
 * seeded bucket, and one full `bucket-bridge run` through webhooks. No credentials, no internet.
 */
async function demo(): Promise<number> {
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`[demo] ${line}\n`);
  const stack = await startLocalStack({ buckets: [BUCKET] });
  const stateDir = await mkdtemp(join(tmpdir(), 'bucket-bridge-demo-state-'));
  try {
    say(`local S3 server ${stack.s3.endpoint}, Roboflow emulator ${stack.roboflow.url}`);
    const seeded = await seedDemoBucket(stack.store(BUCKET));
    say(
      `seeded s3://${BUCKET}/${seeded.prefix}: ${seeded.images.length} images, ` +
        `${seeded.notMedia.length} non-image, ${seeded.tooLarge.length} image over 20 MiB`,
    );
    const port = await freePort();
    const argv = [
      'run',
      '--source', `s3://${BUCKET}/${seeded.prefix}`,
      '--dest', `s3://${BUCKET}/results/`,
      '--workspace', SANDBOX_WORKSPACE,
      '--workflow', SANDBOX_WORKFLOW,
      '--webhook-url', `http://127.0.0.1:${port}`,
      '--webhook-listen', `127.0.0.1:${port}`,
      '--page-size', '10',
      '--timeout', '120',
      '--state-dir', stateDir,
    ];
    say(`bucket-bridge ${argv.join(' ')}`);
    const code = await main(argv, { env: { ...process.env, ...stack.env }, stdout: process.stdout, stderr: process.stderr });

    const results = [];
    for await (const page of stack.store(BUCKET).list('results/')) results.push(...page.objects);
    say(`results in s3://${BUCKET}/results/ (${results.length} objects, ${formatBytes(results.reduce((n, o) => n + o.size, 0))}):`);
    for (const o of results.slice(0, 8)) say(`  ${o.key} (${formatBytes(o.size)})`);
    if (results.length > 8) say(`  … and ${results.length - 8} more`);
    say(`finished with exit code ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } finally {
    await stack.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

demo().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
