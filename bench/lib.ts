import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunSpec } from '../shared/state/run-record';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Node flags of every TypeScript child: s3rver needs the legacy provider, tsx runs the sources. */
export const TS_NODE_ARGS = ['--openssl-legacy-provider', '--expose-gc', '--import', 'tsx'];

export const CHILD_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // Never reach for instance metadata (AWS or GCP): every credential here is local and static.
  AWS_EC2_METADATA_DISABLED: 'true',
  METADATA_SERVER_DETECTION: 'none',
  NODE_NO_WARNINGS: '1',
};

/** Local S3 credentials (s3rver's built-in account). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Peak resident set size of this process (VmHWM), in bytes. */
export function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

/** A child's answer: the last `@@result {json}` line it prints. */
export function reportResult(result: Record<string, unknown>): void {
  process.stdout.write(`@@result ${JSON.stringify({ ...result, peakRss: peakRss() })}\n`);
}

export interface ChildResult {
  [key: string]: unknown;
  peakRss: number;
  /** Highest RSS the parent saw while sampling /proc/<pid>/status every 50 ms. */
  sampledRss: number;
  wallSeconds: number;
}

/**
 * Runs `bench/<script>` in a fresh Node process with a deadline, sampling its RSS every 50 ms,
 * and returns its `@@result` line. A child past its deadline is killed and the promise rejects.
 */
export function runChild(script: string, args: string[], deadlineMs: number, nodeArgs = TS_NODE_ARGS): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, `${BENCH_DIR}${script}`, ...args], {
      cwd: REPO_ROOT,
      env: CHILD_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sampled = 0;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const sampler = setInterval(() => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) sampled = Math.max(sampled, Number(m[1]) * 1024);
      } catch {
        // the child has exited
      }
    }, 50);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')}: deadline of ${deadlineMs / 1000} s passed`));
    }, deadlineMs);
    child.on('exit', (code) => {
      clearInterval(sampler);
      clearTimeout(timer);
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('@@result '));
      if (code !== 0 || !line) return reject(new Error(`${script} ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').slice(-8).join('\n')}`));
      const result = JSON.parse(line.slice('@@result '.length)) as ChildResult;
      resolve({ ...result, sampledRss: sampled, wallSeconds: (performance.now() - started) / 1000 });
    });
  });
}

/** A long-running helper process (local S3 server, byte server) that prints `@@ready {json}`. */
export interface Service<T> {
  info: T;
  child: ChildProcess;
  stop(): Promise<void>;
}

const liveServices = new Set<Service<unknown>>();

/** Stops every service still running (the bench was interrupted). */
export async function stopAllServices(): Promise<void> {
  await Promise.all([...liveServices].map((s) => s.stop()));
}

export function startService<T>(script: string, args: string[], startupMs = 60_000): Promise<Service<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, `${BENCH_DIR}${script}`, ...args], {
      cwd: REPO_ROOT,
      env: CHILD_ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${startupMs / 1000} s`));
    }, startupMs);
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('@@ready '));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      const service: Service<T> = {
        info: JSON.parse(line.slice('@@ready '.length)) as T,
        child,
        stop: async () => {
          liveServices.delete(service as Service<unknown>);
          if (child.exitCode === null) {
            await new Promise<void>((done) => {
              child.once('exit', () => done());
              child.stdin!.end(); // services exit when stdin closes
              setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
            });
          }
          // The service's data folder goes even if it was killed.
          const { directory } = JSON.parse(line.slice('@@ready '.length)) as { directory?: unknown };
          if (typeof directory === 'string' && directory.includes('bucket-bridge-bench-')) rmSync(directory, { recursive: true, force: true });
        },
      };
      liveServices.add(service as Service<unknown>);
      resolve(service);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited ${code} before it was ready: ${err.trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}

/** Exits the service process when its parent closes stdin (or dies); cleanup gets 2 s at most. */
export function exitWithParent(cleanup: () => Promise<void> | void): void {
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await Promise.race([Promise.resolve(cleanup()).catch(() => undefined), new Promise((done) => setTimeout(done, 2000))]);
    process.exit(0);
  });
}

export const MiB = 1024 * 1024;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Object keys of the listing scenarios: `<prefix>dNNNN/frame-NNNNNNN.jpg`, 1,000 per folder. */
export function benchKey(prefix: string, i: number): string {
  return `${prefix}d${String(Math.floor(i / 1000)).padStart(4, '0')}/frame-${String(i).padStart(7, '0')}.jpg`;
}

/** The run every bench submits or exports: images from `s3://media/cams/` to `s3://results/out/` on Roboflow; rows change what they measure. */
export function benchRunSpec(overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    source: { scheme: 's3', bucket: 'media', prefix: 'cams/' },
    dest: { scheme: 's3', bucket: 'results', prefix: 'out/' },
    media: 'images',
    target: { name: 'roboflow', workspace: 'bench', workflowId: 'bench', job: {} },
    urlLifetimeSeconds: 86_400,
    manifestPrefix: 'bucket-bridge/manifests/',
    keepArchives: false,
    ...overrides,
  };
}
