import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../sandbox/local-stack';
import { seedDemoBucket } from '../sandbox/seed';
import { openSocket } from '../test/support/raw-http';
import { CHILD_ENV, MiB, REPO_ROOT } from './lib';

/**
 * The CLI's webhook receiver under the floods of issue 10 item 1, each against a real
 * `bucket-bridge run` in webhook mode (its own process, `ulimit -n 1024` as on most machines):
 *   bodies — 400 unauthenticated POSTs, each trickling a 1 MiB body (16 KiB every 25 ms);
 *   loris  — 1,100 connections whose request heads never end (one header line every 2 s).
 * Reports the CLI's peak RSS before and during the flood, what happened to the connections, and
 * how the run ended. `--tree DIR` runs the CLI of another checkout (e.g. the code before a fix).
 *   node --openssl-legacy-provider --import tsx bench/webhook-flood.ts [bodies|loris] [--tree DIR]
 */
const args = process.argv.slice(2);
const treeAt = args.indexOf('--tree');
const tree = treeAt === -1 ? REPO_ROOT : args[treeAt + 1]!;
const picked = args.filter((a, i) => !a.startsWith('--') && (treeAt === -1 || i !== treeAt + 1));
const wants = (name: string) => picked.length === 0 || picked.includes(name);

const BUCKET = 'flood-media';
const FD_LIMIT = 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => `${Math.round(bytes / MiB)} MB`;

interface Memory {
  rss: number;
  hwm: number;
}

async function memoryOf(pid: number): Promise<Memory | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status ?? '')?.[1] ?? 0) * 1024;
  return status ? { rss: kb('VmRSS'), hwm: kb('VmHWM') } : undefined;
}

/** A `bucket-bridge run` in webhook mode from `tree`, with its open-file limit lowered to FD_LIMIT. */
async function startCli(stack: LocalStack, dest: string) {
  const port = await freePort();
  const cliArgs = [
    'run',
    '--source', `s3://${BUCKET}/incoming/`,
    '--dest', `s3://${BUCKET}/${dest}/`,
    '--workspace', SANDBOX_WORKSPACE,
    '--workflow', SANDBOX_WORKFLOW,
    '--timeout', '90',
    '--allow-http-references',
    '--state-dir', await mkdtemp(join(tmpdir(), 'bb-flood-state-')),
    '--webhook-url', `http://127.0.0.1:${port}`,
    '--webhook-listen', `127.0.0.1:${port}`,
  ];
  const child = spawn('bash', ['-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, process.execPath, join(tree, 'bin/bucket-bridge.mjs'), ...cliArgs], {
    cwd: tree,
    env: { ...CHILD_ENV, ...stack.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  void exited.then(() => clearTimeout(killer));
  for (let i = 0; i < 400 && !/waiting on webhooks/.test(stderr) && child.exitCode === null; i++) await sleep(50);
  if (!/waiting on webhooks/.test(stderr)) throw new Error(`the CLI's receiver did not start: ${stderr.slice(-500)}`);
  let peak = 0;
  const sampler = setInterval(() => void memoryOf(child.pid!).then((m) => (peak = Math.max(peak, m?.rss ?? 0))), 50);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    running: () => child.exitCode === null,
    /** Highest RSS seen by sampling since the last call. */
    takePeak: () => {
      const p = peak;
      peak = 0;
      return p;
    },
    async result() {
      const code = await exited;
      clearInterval(sampler);
      const start = stdout.indexOf('{');
      let status = 'no summary';
      try {
        if (start !== -1) status = (JSON.parse(stdout.slice(start)) as { status: string }).status;
      } catch {
        status = 'unreadable summary';
      }
      const crash = /^(Error|.*Error): .*$|EMFILE[^"\n]*/m.exec(stderr)?.[0];
      return { code, status, crash, stderrTail: stderr.slice(-400) };
    },
  };
}

/** Opens a connection, or records why it could not be opened. */
async function tryOpen(url: string, failures: Map<string, number>): Promise<Socket | undefined> {
  try {
    const socket = await openSocket(url);
    socket.on('error', () => {});
    return socket;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    failures.set(code, (failures.get(code) ?? 0) + 1);
    return undefined;
  }
}

async function slowBodies(stack: LocalStack) {
  const cli = await startCli(stack, 'after-bodies');
  await sleep(1000);
  cli.takePeak();
  const before = (await memoryOf(cli.pid))!;
  const failures = new Map<string, number>();
  const CONNECTIONS = 400;
  const BODY = MiB;
  const CHUNK = Buffer.alloc(16 * 1024, 'a');
  let sentBytes = 0;
  let answered = 0;
  const began = performance.now();
  const one = async () => {
    const socket = await tryOpen(cli.url, failures);
    if (!socket) return;
    socket.once('data', () => answered++);
    socket.write(`POST /webhooks/${'g'.repeat(43)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY}\r\n\r\n`);
    for (let sent = 0; sent < BODY && !socket.destroyed && performance.now() - began < 30_000; sent += CHUNK.length) {
      socket.write(CHUNK);
      sentBytes += CHUNK.length;
      await sleep(25);
    }
    await sleep(500);
    socket.destroy();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, one));
  const during = cli.takePeak();
  const seconds = (performance.now() - began) / 1000;
  const run = await cli.result();
  console.log(`bodies: ${CONNECTIONS} slow unauthenticated 1 MiB bodies over ${seconds.toFixed(1)} s`);
  console.log(`  CLI RSS before ${mb(before.rss)}, peak during the flood ${mb(during)}`);
  console.log(`  answered ${answered}, body bytes written by the attacker ${mb(sentBytes)}, connect failures ${JSON.stringify(Object.fromEntries(failures))}`);
  console.log(`  run: exit ${run.code}, summary ${run.status}${run.crash ? `, ${run.crash}` : ''}`);
}

async function slowLoris(stack: LocalStack) {
  const cli = await startCli(stack, 'after-loris');
  await sleep(500);
  const CONNECTIONS = 1100;
  const HOLD_MS = 20_000;
  const failures = new Map<string, number>();
  const began = performance.now();
  const closedAt: number[] = [];
  const sockets: Socket[] = [];
  const slowConnects: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const asked = performance.now();
    const socket = await tryOpen(cli.url, failures);
    if (!socket) continue;
    const opened = performance.now();
    if (opened - asked > 200) slowConnects.push(Math.round(opened - asked));
    socket.once('close', () => closedAt.push(performance.now() - opened));
    socket.write('POST /webhooks/x HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    sockets.push(socket);
  }
  const opened = sockets.length;
  const openSeconds = (performance.now() - began) / 1000;
  for (let t = 0; t < HOLD_MS / 2000; t++) {
    await sleep(2000);
    for (const s of sockets) if (!s.destroyed) s.write(`X-Loris-${t}: 1\r\n`);
  }
  const stillOpen = sockets.filter((s) => !s.destroyed).length;
  const runningAfter = cli.running();
  for (const s of sockets) s.destroy();
  const run = await cli.result();
  const refused = closedAt.filter((ms) => ms < 200).length;
  const timedOut = closedAt.filter((ms) => ms >= 200);
  const sorted = [...timedOut].sort((a, b) => a - b);
  console.log(`loris: ${CONNECTIONS} slow-loris connections held for ${HOLD_MS / 1000} s (opened ${opened} in ${openSeconds.toFixed(1)} s)`);
  console.log(`  closed by the receiver within 200 ms ${refused}, later ${timedOut.length} (median ${((sorted[Math.floor(sorted.length / 2)] ?? 0) / 1000).toFixed(1)} s), still open at the end ${stillOpen}; connect failures ${JSON.stringify(Object.fromEntries(failures))}`);
  console.log(`  CLI still running after the flood: ${runningAfter}; connects slower than 200 ms: ${slowConnects.length} ${JSON.stringify(slowConnects.slice(0, 8))}`);
  console.log(`  run: exit ${run.code}, summary ${run.status}${run.crash ? `, ${run.crash}` : ''}`);
  if (run.code !== 0) console.log(`  stderr tail: ${run.stderrTail.replace(/\n/g, ' | ')}`);
}

// Job stages slow enough that each flood lands while the run is in progress.
const stack = await startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 500, jobStageDelayMs: 4000 } });
try {
  await seedDemoBucket(stack.store(BUCKET), 'incoming/', { withOversize: false });
  console.log(`CLI from ${tree}`);
  if (wants('bodies')) await slowBodies(stack);
  if (wants('loris')) await slowLoris(stack);
} finally {
  await stack.close();
}
