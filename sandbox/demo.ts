import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../cli/main';
import { formatBytes } from '../cli/progress-line';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack } from './local-stack';
import { fakeImage, seedDemoBucket, seedDocuments } from './seed';
import { startExtendEmulator } from './extend-emulator';
import { startLlamaCloudEmulator } from './llamacloud-emulator';
import { webhookPath } from '../shared/webhook/receive';
import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { pathToFileURL } from 'node:url';
import type { ObjectStore } from '../shared/storage/port';

const BUCKET = 'demo-media';
const GCS_BUCKET = 'demo-gcs-media';
/** The emulator refuses images over this in the demo, so one seeded image fails at ingest and the run report shows a failed object. */
const DEMO_EMULATOR_MAX_IMAGE_BYTES = 1024 * 1024;

type DemoTarget = 'roboflow' | 'extend' | 'llamacloud';

/**
 * `npm run demo -- --source-store gcs`: read the images from a (fake) GCS bucket instead of S3.
 * `npm run demo -- --target extend|llamacloud`: send documents to that target's emulator instead.
 * `npm run demo -- --ingest upload|references|auto`: how the images reach the emulator (default auto).
 * `npm run demo -- --refuse-signed-urls`: the emulator acts as a plan without signed-URL ingest
 *   (with the default `--ingest auto`, the run switches to uploads by itself).
 */
function demoOptions(argv: string[]): { sourceStore: 's3' | 'gcs'; target: DemoTarget; ingest?: string; refuseSignedUrls: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      'source-store': { type: 'string', default: 's3' },
      target: { type: 'string', default: 'roboflow' },
      ingest: { type: 'string' },
      'refuse-signed-urls': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const sourceStore = values['source-store'];
  if (sourceStore !== 's3' && sourceStore !== 'gcs') throw new Error(`--source-store: expected s3 or gcs, got ${JSON.stringify(sourceStore)}`);
  const target = values.target;
  if (target !== 'roboflow' && target !== 'extend' && target !== 'llamacloud') {
    throw new Error(`--target: expected roboflow, extend or llamacloud, got ${JSON.stringify(target)}`);
  }
  if (target !== 'roboflow' && sourceStore !== 's3') throw new Error('--source-store gcs goes with the Roboflow demo');
  const refuseSignedUrls = values['refuse-signed-urls'] === true;
  if (target !== 'roboflow' && (values.ingest !== undefined || refuseSignedUrls)) throw new Error('--ingest and --refuse-signed-urls go with the Roboflow demo');
  return { sourceStore, target, ingest: values.ingest, refuseSignedUrls };
}

/**
 * The main job on a fresh machine: a local S3 server and a Roboflow emulator on loopback (plus a
 * fake GCS with `--source-store gcs`), a seeded bucket, and one full `bucket-bridge run` through
 * webhooks. No credentials, no internet.
 */
async function demo(): Promise<number> {
  const { sourceStore, target, ingest, refuseSignedUrls } = demoOptions(process.argv.slice(2));
  if (target !== 'roboflow') return documentsDemo(target);
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`[demo] ${line}\n`);
  // Each job stage runs a few seconds, so the job's progress can be seen moving (read every second).
  const stack = await startLocalStack({ buckets: [BUCKET], gcsBuckets: sourceStore === 'gcs' ? [GCS_BUCKET] : undefined, emulator: { jobStageDelayMs: 3000, maxImageBytes: DEMO_EMULATOR_MAX_IMAGE_BYTES } });
  const stateDir = await mkdtemp(join(tmpdir(), 'bucket-bridge-demo-state-'));
  try {
    say(`local S3 server ${stack.s3.endpoint}, Roboflow emulator ${stack.roboflow.url}`);
    if (refuseSignedUrls) {
      stack.roboflow.setFaults({ signedUrlIngestRefused: true });
      say('the emulator refuses signed-URL ingest, as Roboflow does for plans below Growth');
    }
    if (stack.gcs) say(`fake GCS ${stack.gcs.server.url} (signed URLs verified against ${stack.gcs.account.email})`);
    const sourceUrl = stack.gcs ? `gs://${GCS_BUCKET}` : `s3://${BUCKET}`;
    const source = stack.gcs ? stack.gcs.store(GCS_BUCKET) : stack.store(BUCKET);
    const seeded = await seedDemoBucket(source);
    say(
      `seeded ${sourceUrl}/${seeded.prefix}: ${seeded.images.length} images, ` +
        `${seeded.notMedia.length} non-image, ${seeded.tooLarge.length} image over 20 MiB`,
    );
    const refused = `${seeded.prefix}cams/lot4/0001.jpg`;
    await source.write(refused, fakeImage(refused, DEMO_EMULATOR_MAX_IMAGE_BYTES + 1));
    say(`and ${refused}, over the emulator's ${formatBytes(DEMO_EMULATOR_MAX_IMAGE_BYTES)} limit here: it fails at ingest, as the run report shows`);
    const port = await freePort();
    const argv = [
      'run',
      '--source', `${sourceUrl}/${seeded.prefix}`,
      '--dest', `s3://${BUCKET}/results/`,
      '--workspace', SANDBOX_WORKSPACE,
      '--workflow', SANDBOX_WORKFLOW,
      // The local S3 server (and fake GCS) sign plain-http URLs, which Roboflow's official client refuses.
      '--allow-http-references',
      ...(ingest === undefined ? [] : ['--ingest', ingest]),
      '--webhook-url', `http://127.0.0.1:${port}`,
      '--webhook-listen', `127.0.0.1:${port}`,
      '--page-size', '10',
      '--timeout', '120',
      '--progress-interval', '1',
      '--state-dir', stateDir,
    ];
    say(`bucket-bridge ${argv.join(' ')}`);
    const code = await main(argv, { env: { ...process.env, ...stack.env, ...stack.gcs?.env }, stdout: process.stdout, stderr: process.stderr });
    if (stack.gcs) {
      const signed = stack.gcs.server.requests.filter((r) => r.kind === 'signed');
      say(`fake GCS served ${signed.filter((r) => r.status === 200).length} signed downloads (${signed.filter((r) => r.status !== 200).length} refused)`);
    }

    const results = [];
    for await (const page of stack.store(BUCKET).list('results/')) results.push(...page.objects);
    say(`results in s3://${BUCKET}/results/ (${results.length} objects, ${formatBytes(results.reduce((n, o) => n + o.size, 0))}):`);
    for (const o of results.slice(0, 8)) say(`  ${o.key} (${formatBytes(o.size)})`);
    if (results.length > 8) say(`  … and ${results.length - 8} more`);
    await saveReport(stack.store(BUCKET), results.map((o) => o.key), say);
    say(`finished with exit code ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } finally {
    await stack.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Copies the run's report.html out of the local bucket (which goes away with the demo) into a file to open. */
async function saveReport(store: ObjectStore, keys: string[], print: (line: string) => void) {
  const key = keys.find((k) => k.endsWith('/report.html'));
  if (!key) return;
  const file = join(tmpdir(), 'bucket-bridge-demo-report.html');
  await writeFile(file, await text(await store.read(key)));
  print(`run report (s3://${BUCKET}/${key}) saved as ${pathToFileURL(file).href}: open it in a browser`);
}

/**
 * The same loop for a document target: a dozen documents in the local S3 server, the target's
 * emulator on loopback, and `bucket-bridge run --target …` through signed webhooks.
 */
async function documentsDemo(target: 'extend' | 'llamacloud'): Promise<number> {
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`[demo] ${line}\n`);
  const stack = await startLocalStack({ buckets: [BUCKET] });
  const stateDir = await mkdtemp(join(tmpdir(), 'bucket-bridge-demo-state-'));
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  const emulator =
    target === 'extend'
      ? await startExtendEmulator({ apiKey: 'demo-extend-key', runDelayMs: 20, webhookUrl: `http://127.0.0.1:${port}${webhookPath(secret)}` })
      : await startLlamaCloudEmulator({ apiKey: 'demo-llama-key', jobDelayMs: 20 });
  try {
    say(`local S3 server ${stack.s3.endpoint}, ${target} emulator ${emulator.url}`);
    const seeded = await seedDocuments(stack.store(BUCKET));
    say(`seeded s3://${BUCKET}/${seeded.prefix}: ${seeded.documents.length} documents, ${seeded.other.length} other file`);
    const targetFlags =
      target === 'extend' ? ['--extend-processor', 'ex_emulated'] : ['--llamacloud-configuration', 'cfg-PARSE_AGENTIC', '--llamacloud-job', 'parse_v2'];
    const argv = [
      'run',
      '--target', target,
      ...targetFlags,
      '--source', `s3://${BUCKET}/${seeded.prefix}`,
      '--dest', `s3://${BUCKET}/results/`,
      '--webhook-url', `http://127.0.0.1:${port}`,
      '--webhook-listen', `127.0.0.1:${port}`,
      '--timeout', '120',
      '--state-dir', stateDir,
    ];
    say(`bucket-bridge ${argv.join(' ')}`);
    const env = {
      ...process.env,
      ...stack.env,
      BUCKET_BRIDGE_WEBHOOK_SECRET: secret,
      ...(target === 'extend'
        ? { EXTEND_API_KEY: 'demo-extend-key', EXTEND_API_URL: emulator.url, EXTEND_WEBHOOK_SIGNING_SECRET: (emulator as { signingSecret: string }).signingSecret }
        : { LLAMA_CLOUD_API_KEY: 'demo-llama-key', LLAMA_CLOUD_BASE_URL: emulator.url }),
    };
    const code = await main(argv, { env, stdout: process.stdout, stderr: process.stderr });
    const keys = await listResults(say);
    await saveReport(stack.store(BUCKET), keys, say);
    say(`finished with exit code ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } finally {
    await emulator.close();
    await stack.close();
    await rm(stateDir, { recursive: true, force: true });
  }

  async function listResults(print: (line: string) => void) {
    const results = [];
    for await (const page of stack.store(BUCKET).list('results/')) results.push(...page.objects);
    print(`results in s3://${BUCKET}/results/ (${results.length} objects, ${formatBytes(results.reduce((n, o) => n + o.size, 0))}):`);
    for (const o of results.slice(0, 8)) print(`  ${o.key} (${formatBytes(o.size)})`);
    if (results.length > 8) print(`  … and ${results.length - 8} more`);
    return results.map((o) => o.key);
  }
}

demo().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
